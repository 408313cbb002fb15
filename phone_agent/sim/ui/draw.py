"""Drawing a widget tree with Pillow: palettes, fonts, and the transient layers (loading, keyboard)."""

from __future__ import annotations

import functools
import math
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from phone_agent.sim.ui.widgets import Kind, Rect, Widget, intersect

Color = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path("/Library/Fonts"))
_FONT_NAMES = {False: ("DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf"),
               True: ("DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf", "Arial Bold.ttf")}


@dataclass(frozen=True)
class Palette:
    """Colours by role; widgets name a role, the theme picks the colour."""

    bg: Color
    surface: Color
    fg: Color
    muted: Color
    accent: Color
    on_accent: Color
    line: Color
    bar: Color
    danger: Color

    def __getitem__(self, role: str) -> Color:
        """The colour of a role such as "fg" or "accent"."""
        colour: Color = getattr(self, role)
        return colour


LIGHT = Palette(bg=(246, 246, 248), surface=(255, 255, 255), fg=(28, 28, 32), muted=(108, 108, 118),
                accent=(25, 103, 210), on_accent=(255, 255, 255), line=(214, 214, 220), bar=(232, 232, 236),
                danger=(200, 40, 40))
DARK = Palette(bg=(18, 18, 22), surface=(34, 34, 40), fg=(236, 236, 242), muted=(160, 160, 170),
               accent=(138, 180, 248), on_accent=(12, 20, 40), line=(70, 70, 78), bar=(28, 28, 32),
               danger=(242, 120, 110))


def _find_font_file(bold: bool) -> Path | None:
    """A TrueType file from the usual system font folders, if one is there."""
    for folder in _FONT_DIRS:
        if not folder.is_dir():
            continue
        for name in _FONT_NAMES[bold]:
            found = next(folder.rglob(name), None)
            if found:
                return found
    return None


class Fonts:
    """Scaled fonts by pixel size, loaded once per phone; falls back to Pillow's own font."""

    def __init__(self) -> None:
        self._files = {bold: _find_font_file(bold) for bold in (False, True)}
        self._cache: dict[tuple[int, bool], Font] = {}

    def get(self, size: int, bold: bool = False) -> Font:
        """A font of `size` pixels."""
        key = (size, bold)
        if key not in self._cache:
            path = self._files[bold] or self._files[False]
            try:
                self._cache[key] = (ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.BASIC)
                                    if path else ImageFont.load_default(size))
            except (OSError, TypeError, AttributeError):
                self._cache[key] = ImageFont.load_default()
        return self._cache[key]


_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str, lines: bool = False) -> str:
    """Text safe to draw: control characters become spaces, lone surrogates U+FFFD; newlines kept if `lines`."""
    text = _SURROGATE.sub("\ufffd", _UNPRINTABLE.sub(" ", text))
    return text if lines else text.replace("\n", " ")


def _width(font: Font, text: str) -> float:
    """The advance width of a text line."""
    return float(font.getlength(text))


def ellipsize(font: Font, text: str, width: int) -> str:
    """Cut text with an ellipsis so it fits `width` pixels."""
    if _width(font, text) <= width:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if _width(font, text[:mid] + "\u2026") <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "\u2026"


def wrap_lines(font: Font, text: str, width: int) -> list[str]:
    """Break text into lines that fit `width` pixels, on spaces or anywhere for long words."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if _width(font, candidate) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while _width(font, line) > width and len(line) > 1:
                cut = len(ellipsize(font, line, width)) - 1 or 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def icon_colour(label: str) -> Color:
    """A stable, saturated colour for a launcher icon."""
    hue = zlib.crc32(label.encode()) % 360
    channel = [max(0.0, min(1.0, abs((hue / 60 + k) % 6 - 3) - 1)) for k in (0, 4, 2)]
    return (int(40 + 170 * channel[0]), int(40 + 170 * channel[1]), int(40 + 170 * channel[2]))


@functools.lru_cache(maxsize=2)
def camera_photo(width: int, height: int) -> Image.Image:
    """A stand-in for a camera photo: smooth light and colour under sensor noise, which deflate hardly shrinks."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    light = np.stack([255 * x / width, 255 * y / height, 128 + 64 * np.sin(x / 97 + y / 61)], axis=-1)
    noise = np.random.default_rng(2024).normal(0, 12, light.shape)
    return Image.fromarray(np.clip(light + noise, 0, 255).astype(np.uint8), "RGB")


class Painter:
    """Draws widget trees onto RGB images at one pixel density."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self.fonts = Fonts()

    def px(self, dp: float) -> int:
        """Density-independent pixels to pixels."""
        return max(1, round(dp * self.scale))

    def paint(self, image: Image.Image, roots: list[Widget], palette: Palette) -> None:
        """Draw window roots in order; a root marked as a dialog window dims everything below it."""
        for root in roots:
            if root.kind is Kind.DIALOG:
                image.paste(image.point([int(v * 0.45) for v in range(256)] * 3))
            self._draw(ImageDraw.Draw(image), image, root, palette, (0, 0))

    def _draw(self, draw: ImageDraw.ImageDraw, image: Image.Image, w: Widget, pal: Palette,
              shift: tuple[int, int]) -> None:
        """Draw one widget and its children, translated by `shift`."""
        box = (w.bounds[0] - shift[0], w.bounds[1] - shift[1], w.bounds[2] - shift[0], w.bounds[3] - shift[1])
        self._draw_own(draw, w, box, pal)
        if w.kind is Kind.PHOTO:
            image.paste(camera_photo(box[2] - box[0], box[3] - box[1]), box[:2])
        if w.kind is Kind.LIST:
            self._draw_list(image, w, box, pal)
            return
        for child in w.children:
            self._draw(draw, image, child, pal, shift)

    def _draw_list(self, image: Image.Image, w: Widget, box: Rect, pal: Palette) -> None:
        """Draw list rows clipped to the viewport by painting them on a cut-out."""
        view = intersect(box, (0, 0, image.width, image.height))
        if view is None:
            return
        part = image.crop(view)
        draw = ImageDraw.Draw(part)
        offset = (w.bounds[0] - box[0] + view[0], w.bounds[1] - box[1] + view[1])
        for row in w.children:
            self._draw(draw, part, row, pal, offset)
        image.paste(part, view[:2])

    def _text(self, draw: ImageDraw.ImageDraw, w: Widget, box: Rect, text: str, colour: Color,
              centred: bool = False) -> None:
        """Draw a widget's text inside its box, vertically centred, ellipsized or wrapped."""
        font = self.fonts.get(self.px(w.size), w.bold)
        pad = self.px(4) if w.kind in (Kind.TEXT, Kind.ICON) else self.px(12)
        width = max(1, box[2] - box[0] - 2 * pad)
        lines = wrap_lines(font, printable(text, True), width) if w.wrap else [ellipsize(font, printable(text), width)]
        line_h = round(self.px(w.size) * 1.3)
        room = max(1, (box[3] - box[1]) // line_h)
        lines = lines[:room]
        y = (box[1] + box[3]) // 2 - line_h * len(lines) // 2 if not w.wrap else box[1]
        for line in lines:
            x = (box[0] + box[2] - _width(font, line)) / 2 if centred else box[0] + pad
            draw.text((x, y + (line_h - self.px(w.size)) // 2), line, fill=colour, font=font)
            y += line_h

    def _draw_own(self, draw: ImageDraw.ImageDraw, w: Widget, box: Rect, pal: Palette) -> None:
        """Draw the widget itself, without children."""
        radius = self.px(8)
        if w.fill and w.kind not in (Kind.BUTTON, Kind.DIALOG):
            draw.rectangle(box, fill=pal[w.fill])
        match w.kind:
            case Kind.PROGRESS:
                self.progress(draw, box, w.value, pal)
            case Kind.TEXT:
                self._text(draw, w, box, w.shown_text(), pal[w.color], w.center)
            case Kind.BUTTON:
                fill = pal[w.fill] if w.fill else pal.accent
                draw.rounded_rectangle(box, radius=radius * 3, fill=fill)
                self._text(draw, w, box, w.text, pal.on_accent if not w.fill else pal[w.color], True)
            case Kind.FIELD:
                self._draw_field(draw, w, box, pal)
            case Kind.ROW:
                draw.line((box[0], box[3] - 1, box[2], box[3] - 1), fill=pal.line, width=self.px(1))
            case Kind.SWITCH:
                self._draw_switch(draw, box, bool(w.checked), pal)
            case Kind.ICON:
                self._draw_icon(draw, w, box, pal)
            case Kind.IMAGE:
                self._draw_picture(draw, box, pal)
            case Kind.DIALOG:
                draw.rounded_rectangle(box, radius=radius * 3, fill=pal.surface)
            case _:
                pass

    def _draw_field(self, draw: ImageDraw.ImageDraw, w: Widget, box: Rect, pal: Palette) -> None:
        """A text box: surface, underline, text or hint, and a thin cursor bar when focused."""
        draw.rounded_rectangle(box, radius=self.px(6), fill=pal.surface,
                               outline=pal.accent if w.focused else pal.line, width=self.px(2 if w.focused else 1))
        font = self.fonts.get(self.px(w.size))
        pad = self.px(12)
        shown = printable(w.shown_text())
        text = ellipsize(font, shown, box[2] - box[0] - 2 * pad - self.px(4)) if shown else ""
        y = (box[1] + box[3]) // 2 - self.px(w.size) // 2 - self.px(2)
        if text:
            draw.text((box[0] + pad, y), text, fill=pal.fg, font=font)
        elif w.hint:
            draw.text((box[0] + pad, y), ellipsize(font, printable(w.hint), box[2] - box[0] - 2 * pad), fill=pal.muted,
                      font=font)
        if w.focused:
            x = box[0] + pad + round(_width(font, text)) + self.px(1)
            draw.rectangle((x, y - self.px(2), x + self.px(1.5), y + self.px(w.size) + self.px(4)), fill=pal.accent)

    def _draw_switch(self, draw: ImageDraw.ImageDraw, box: Rect, on: bool, pal: Palette) -> None:
        """A pill track with a round knob, right when on."""
        h = min(box[3] - box[1], self.px(28))
        top = (box[1] + box[3] - h) // 2
        track = (box[2] - self.px(52), top, box[2] - self.px(4), top + h)
        draw.rounded_rectangle(track, radius=h // 2, fill=pal.accent if on else pal.line)
        knob = h - self.px(6)
        left = track[2] - knob - self.px(3) if on else track[0] + self.px(3)
        draw.ellipse((left, top + self.px(3), left + knob, top + self.px(3) + knob), fill=pal.surface)

    def _draw_icon(self, draw: ImageDraw.ImageDraw, w: Widget, box: Rect, pal: Palette) -> None:
        """A coloured rounded square with the app's initial, and the label below it."""
        side = min(box[2] - box[0], box[3] - box[1]) - self.px(28)
        left = (box[0] + box[2] - side) // 2
        square = (left, box[1] + self.px(4), left + side, box[1] + self.px(4) + side)
        draw.rounded_rectangle(square, radius=side // 4, fill=icon_colour(w.text))
        font = self.fonts.get(side // 2, True)
        initial = w.text[:1].upper()
        draw.text(((square[0] + square[2]) / 2, (square[1] + square[3]) / 2), initial, fill=(255, 255, 255),
                  font=font, anchor="mm")
        label_box = (box[0], square[3], box[2], box[3])
        self._text(draw, w, label_box, w.text, pal.fg, True)

    def _draw_picture(self, draw: ImageDraw.ImageDraw, box: Rect, pal: Palette) -> None:
        """A placeholder product photo: a sun and two hills."""
        draw.rectangle(box, fill=pal.bar)
        w, h = box[2] - box[0], box[3] - box[1]
        r = h // 8
        draw.ellipse((box[0] + w * 3 // 4 - r, box[1] + h // 4 - r, box[0] + w * 3 // 4 + r, box[1] + h // 4 + r),
                     fill=(240, 190, 60))
        draw.polygon([(box[0], box[3]), (box[0] + w // 3, box[1] + h // 3), (box[0] + w * 2 // 3, box[3])],
                     fill=pal.muted)
        draw.polygon([(box[0] + w // 3, box[3]), (box[0] + w * 2 // 3, box[1] + h // 2), (box[2], box[3])],
                     fill=pal.line)

    def progress(self, draw: ImageDraw.ImageDraw, box: Rect, value: float, pal: Palette) -> None:
        """A horizontal progress bar filled to `value` (0..1)."""
        draw.rectangle(box, fill=pal.line)
        draw.rectangle((box[0], box[1], box[0] + round((box[2] - box[0]) * value), box[3]), fill=pal.accent)

    def loading(self, image: Image.Image, now: float, pal: Palette) -> Image.Image:
        """The intermediate transition frame: the coming screen washed out, with a spinner and a caption."""
        wash = Image.blend(image, Image.new("RGB", image.size, pal.bg), 0.75)
        draw = ImageDraw.Draw(wash)
        cx, cy, r = image.width // 2, image.height // 2, self.px(24)
        start = (now * 360) % 360
        draw.arc((cx - r, cy - r, cx + r, cy + r), start, start + 270, fill=pal.accent, width=self.px(4))
        font = self.fonts.get(self.px(16))
        draw.text((cx, cy + r + self.px(20)), "Loading\u2026", fill=pal.fg, font=font, anchor="mm")
        return wash

    def keyboard_bar(self, image: Image.Image, label: str, bottom: int, pal: Palette) -> None:
        """The input method's bar along the bottom of the screen, naming the keyboard."""
        top = bottom - self.px(48)  # the same height PhoneUI reserves for the keyboard
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, top, image.width, bottom), fill=pal.bar)
        draw.line((0, top, image.width, top), fill=pal.line, width=self.px(1))
        font = self.fonts.get(self.px(14))
        draw.text((image.width // 2, (top + bottom) // 2), label, fill=pal.muted, font=font, anchor="mm")

    def progress_value(self, now: float) -> float:
        """The animated progress for the never-settling knob: a sawtooth over 1.5 s."""
        return (math.fmod(now, 1.5) / 1.5) if now >= 0 else 0.0
