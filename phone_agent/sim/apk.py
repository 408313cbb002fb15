"""Reading an APK's manifest (package, version, label, launcher activity, permissions) for `pm install`."""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from pyaxmlparser import APK


@dataclass(frozen=True)
class ApkInfo:
    """What the package manager keeps about an installed APK."""

    package: str
    label: str
    version_name: str
    version_code: int
    launcher: str  # the launcher activity's full class name
    permissions: tuple[str, ...]
    size: int


class ApkError(ValueError):
    """Not an APK the package manager can parse; the message says why."""


def read_apk(data: bytes) -> ApkInfo:
    """Parse an APK's binary manifest.

    Raises:
        ApkError: not a zip, no AndroidManifest.xml, or no package name in it.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ApkError("not a zip archive")
    # The parser logs every oddity of real-world manifests at WARNING; the phone reports its own errors.
    logging.getLogger("pyaxmlparser").setLevel(logging.ERROR)
    try:
        apk = APK(data, raw=True)
    except Exception as exc:  # the parser raises many kinds on malformed input
        raise ApkError(f"unreadable AndroidManifest.xml ({exc})") from None
    package = apk.package or ""
    if not apk.is_valid_APK() or not package:
        raise ApkError("no AndroidManifest.xml with a package name")
    activities = [name for name in apk.get_activities() if name]
    launcher = apk.get_main_activity() or (activities[0] if activities else f"{package}.MainActivity")
    label = apk.application
    if not isinstance(label, str) or not label.strip() or label.startswith("@"):
        label = package.rsplit(".", 1)[-1]
    try:
        version_code = int(apk.version_code or 0)
    except ValueError:
        version_code = 0
    if launcher.startswith(".") or "." not in launcher:
        launcher = f"{package}.{launcher.lstrip('.')}"
    return ApkInfo(package, label.strip(), str(apk.version_name or ""), version_code, launcher,
                   tuple(sorted(apk.get_permissions())), len(data))
