"""Minimal APKs for tests: a zip whose AndroidManifest.xml is real binary XML (AXML), as aapt writes it.

Only the manifest is real; there is no code. That is all an installer reads before it registers an app.
"""

from __future__ import annotations

import io
import struct
import zipfile

ANDROID_NS = "http://schemas.android.com/apk/res/android"
# AXML chunk types and typed-value kinds.
XML, STRING_POOL, START_NS, END_NS, START_ELEMENT, END_ELEMENT = 0x0003, 0x0001, 0x0100, 0x0101, 0x0102, 0x0103
TYPE_STRING, TYPE_INT_DEC = 0x03, 0x10
NONE = 0xFFFFFFFF

Element = tuple[str, dict[str, str | int], list["Element"]]  # tag, android:attributes, children


class _Strings:
    def __init__(self) -> None:
        self.values: list[str] = []

    def index(self, value: str) -> int:
        if value not in self.values:
            self.values.append(value)
        return self.values.index(value)

    def chunk(self) -> bytes:
        data = bytearray()
        offsets = []
        for value in self.values:
            offsets.append(len(data))
            encoded = value.encode("utf-16-le")
            data += struct.pack("<H", len(encoded) // 2) + encoded + b"\0\0"  # the length in UTF-16 units
        data += b"\0" * (-len(data) % 4)
        header_size = 28
        start = header_size + 4 * len(self.values)
        body = struct.pack(f"<{len(offsets)}I", *offsets) + bytes(data)
        return struct.pack("<HHIIIIII", STRING_POOL, header_size, header_size + len(body), len(self.values), 0, 0,
                           start, 0) + body


def manifest(root: Element) -> bytes:
    """Encode an element tree (attributes in the android namespace) as binary XML."""
    strings = _Strings()
    ns, prefix = strings.index(ANDROID_NS), strings.index("android")
    chunks: list[bytes] = []

    def element(node: Element) -> None:
        tag, attributes, children = node
        encoded = bytearray()
        for name, value in attributes.items():
            attr_ns = NONE if name == "package" else ns  # the package attribute has no namespace
            if isinstance(value, int):
                encoded += struct.pack("<IIIHBBI", attr_ns, strings.index(name), NONE, 8, 0, TYPE_INT_DEC, value)
            else:
                raw = strings.index(value)
                encoded += struct.pack("<IIIHBBI", attr_ns, strings.index(name), raw, 8, 0, TYPE_STRING, raw)
        extension = struct.pack("<IIHHHHHH", NONE, strings.index(tag), 20, 20, len(attributes), 0, 0, 0)
        size = 16 + len(extension) + len(encoded)
        chunks.append(struct.pack("<HHIII", START_ELEMENT, 16, size, 1, NONE) + extension + bytes(encoded))
        for child in children:
            element(child)
        chunks.append(struct.pack("<HHIIIII", END_ELEMENT, 16, 24, 1, NONE, NONE, strings.index(tag)))

    element(root)
    start_ns = struct.pack("<HHIIIII", START_NS, 16, 24, 1, NONE, prefix, ns)
    end_ns = struct.pack("<HHIIIII", END_NS, 16, 24, 1, NONE, prefix, ns)
    pool = strings.chunk()
    body = pool + start_ns + b"".join(chunks) + end_ns
    return struct.pack("<HHI", XML, 8, 8 + len(body)) + body


def build_apk(package: str, label: str, activity: str = ".MainActivity", version_name: str = "1.0",
              version_code: int = 1, permissions: tuple[str, ...] = (), ime_service: str | None = None) -> bytes:
    """A zip with a binary manifest declaring a launcher activity (and optionally an input method service)."""
    launcher = ("intent-filter", {}, [("action", {"name": "android.intent.action.MAIN"}, []),
                                      ("category", {"name": "android.intent.category.LAUNCHER"}, [])])
    components: list[Element] = [("activity", {"name": activity, "exported": "true"}, [launcher])]
    if ime_service:
        components.append(("service", {"name": ime_service, "permission": "android.permission.BIND_INPUT_METHOD"},
                           [("intent-filter", {}, [("action", {"name": "android.view.InputMethod"}, [])])]))
    root: Element = ("manifest", {"versionCode": version_code, "versionName": version_name, "package": package}, [
        *(("uses-permission", {"name": permission}, []) for permission in permissions),
        ("application", {"label": label}, components),
    ])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AndroidManifest.xml", manifest(root))
        archive.writestr("classes.dex", b"dex\n035\0")
    return buffer.getvalue()
