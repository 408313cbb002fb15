"""Preparing screenshots for the model: as captured (lossless, the default), or smaller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

ImageFormat = Literal["png", "jpeg", "webp"]
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class ImageOptions:
    """The format and largest side of the image sent to the model; coordinates stay 0-999 either way."""

    format: ImageFormat = "png"
    max_side: int | None = None
    quality: int = 85

    def encode(
        self, png: bytes | Callable[[], bytes], bgr: Callable[[], np.ndarray] | None = None
    ) -> tuple[bytes, str]:
        """The bytes to send and their MIME type; a PNG that needs no change is passed through untouched.

        ``png`` may be a function that makes the PNG, and ``bgr`` one that gives the pixels without
        decoding it (a frame that reached the host as pixels): each is called only when needed.

        Raises:
            ValueError: the screenshot is not a decodable image.
        """
        if self.format == "png" and self.max_side is None:
            return (png if isinstance(png, bytes) else png()), _MIME["png"]
        image: np.ndarray | None
        if bgr is not None:
            image = bgr()
        else:
            image = cv2.imdecode(np.frombuffer(png if isinstance(png, bytes) else png(), np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError("the screenshot is not a decodable image")
        height, width = image.shape[:2]
        if self.max_side is not None and max(width, height) > self.max_side:
            scale = self.max_side / max(width, height)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        params = {
            "png": [cv2.IMWRITE_PNG_COMPRESSION, 3],
            "jpeg": [cv2.IMWRITE_JPEG_QUALITY, self.quality],
            "webp": [cv2.IMWRITE_WEBP_QUALITY, self.quality],
        }[self.format]
        ok, encoded = cv2.imencode(".jpg" if self.format == "jpeg" else f".{self.format}", image, params)
        if not ok:
            raise ValueError(f"cannot encode the screenshot as {self.format}")
        return encoded.tobytes(), _MIME[self.format]
