"""The widget tree of a screen: building blocks, layout, hit-testing and the uiautomator XML dump."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from xml.sax.saxutils import escape

Rect = tuple[int, int, int, int]
Action = Callable[[], None]


class Kind(StrEnum):
    """What a widget is; decides how it is drawn and which Android class it reports."""

    FRAME = "frame"
    TEXT = "text"
    BUTTON = "button"
    FIELD = "field"
    LIST = "list"
    ROW = "row"
    SWITCH = "switch"
    ICON = "icon"
    IMAGE = "image"
    PHOTO = "photo"  # a camera photo: noise and all
    DIALOG = "dialog"
    PROGRESS = "progress"


ANDROID_CLASS = {
    Kind.FRAME: "android.widget.FrameLayout",
    Kind.TEXT: "android.widget.TextView",
    Kind.BUTTON: "android.widget.Button",
    Kind.FIELD: "android.widget.EditText",
    Kind.LIST: "androidx.recyclerview.widget.RecyclerView",
    Kind.ROW: "android.widget.LinearLayout",
    Kind.SWITCH: "android.widget.Switch",
    Kind.ICON: "android.widget.TextView",
    Kind.IMAGE: "android.widget.ImageView",
    Kind.PHOTO: "android.widget.ImageView",
    Kind.DIALOG: "android.widget.FrameLayout",
    Kind.PROGRESS: "android.widget.ProgressBar",
}


@dataclass(eq=False)
class Widget:
    """One node of the screen tree; `bounds` are absolute pixels, children are drawn above the parent."""

    kind: Kind
    bounds: Rect
    rid: str = ""
    text: str = ""
    desc: str = ""
    hint: str = ""
    cls: str = ""
    package: str = ""
    size: int = 16
    bold: bool = False
    color: str = "fg"
    fill: str | None = None
    center: bool = False
    wrap: bool = False
    checked: bool | None = None
    focused: bool = False
    password: bool = False
    value: float = 0.0
    extent: int = 0
    system: bool = False
    on_tap: Action | None = None
    on_long: Action | None = None
    on_double: Action | None = None
    children: list[Widget] = field(default_factory=list)

    @property
    def android_class(self) -> str:
        """The Android class name reported in the dump."""
        return self.cls or ANDROID_CLASS[self.kind]

    def shown_text(self) -> str:
        """The text as the screen shows it (passwords masked)."""
        return "\u2022" * len(self.text) if self.password else self.text

    def fingerprint(self) -> tuple[object, ...]:
        """Everything that affects how the widget looks, recursively (callbacks excluded)."""
        own = (self.kind, self.bounds, self.rid, self.text, self.desc, self.hint, self.size, self.bold,
               self.color, self.fill, self.center, self.wrap, self.checked, self.focused, self.password, self.value)
        return own + tuple(child.fingerprint() for child in self.children)


def intersect(a: Rect, b: Rect) -> Rect | None:
    """The overlap of two rectangles, or None when they do not overlap."""
    left, top, right, bottom = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (left, top, right, bottom) if left < right and top < bottom else None


def contains(rect: Rect, x: int, y: int) -> bool:
    """Whether the point lies inside the rectangle (right and bottom edges excluded)."""
    return rect[0] <= x < rect[2] and rect[1] <= y < rect[3]


def centre(rect: Rect) -> tuple[int, int]:
    """The middle point of a rectangle."""
    return (rect[0] + rect[2]) // 2, (rect[1] + rect[3]) // 2


class Column:
    """Stacks rectangles top to bottom inside a horizontal span, in dp units scaled to pixels."""

    def __init__(self, left: int, top: int, right: int, scale: float) -> None:
        self.left, self.y, self.right, self.scale = left, top, right, scale

    def dp(self, value: float) -> int:
        """Density-independent pixels to pixels."""
        return round(value * self.scale)

    def take(self, height: float, gap: float = 8, inset: float = 16) -> Rect:
        """Reserve the next `height` dp, leaving `gap` dp below and `inset` dp on both sides."""
        top = self.y
        self.y += self.dp(height)
        rect = (self.left + self.dp(inset), top, self.right - self.dp(inset), self.y)
        self.y += self.dp(gap)
        return rect

    def rest(self, bottom: int, inset: float = 0) -> Rect:
        """Everything from the current position down to `bottom`."""
        return (self.left + self.dp(inset), self.y, self.right - self.dp(inset), max(self.y, bottom))


def list_view(rect: Rect, rid: str, count: int, row_height: int, offset: int,
              make_row: Callable[[int, Rect], Widget], *, cls: str = "") -> Widget:
    """A vertically scrolling list that holds only the rows intersecting its viewport."""
    extent = count * row_height
    offset = max(0, min(offset, extent - (rect[3] - rect[1])))
    rows: list[Widget] = []
    if row_height > 0:
        first = offset // row_height
        for index in range(first, count):
            top = rect[1] + index * row_height - offset
            if top >= rect[3]:
                break
            rows.append(make_row(index, (rect[0], top, rect[2], top + row_height)))
    return Widget(Kind.LIST, rect, rid=rid, cls=cls, extent=extent, children=rows)


def max_scroll(widget: Widget) -> int:
    """How far a list can scroll before its last row reaches the bottom."""
    return max(0, widget.extent - (widget.bounds[3] - widget.bounds[1]))


def hit_path(root: Widget, x: int, y: int) -> list[Widget]:
    """The chain of widgets under a point, outermost first; later siblings are on top."""
    if not contains(root.bounds, x, y):
        return []
    path: list[Widget] = []
    node: Widget | None = root
    clip = root.bounds
    while node is not None:
        path.append(node)
        nxt: Widget | None = None
        for child in reversed(node.children):
            visible = intersect(child.bounds, clip)
            if visible and contains(visible, x, y):
                nxt = child
                clip = visible
                break
        node = nxt
    return path


def walk(root: Widget, clip: Rect | None = None) -> Iterator[tuple[Widget, Rect]]:
    """Every widget with its visible (clipped) bounds, depth first; hidden ones are skipped."""
    clip = clip or root.bounds
    visible = intersect(root.bounds, clip)
    if visible is None:
        return
    yield root, visible
    for child in root.children:
        yield from walk(child, visible)


_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_attr(value: str) -> str:
    """Escape text for a double-quoted XML attribute, replacing characters XML cannot carry."""
    value = _INVALID_XML.sub("\ufffd", value)
    return escape(value, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def _node_xml(widget: Widget, index: int, visible: Rect, package: str, out: list[str]) -> None:
    """Append one node (and its visible children) in uiautomator's format."""
    clickable = widget.on_tap is not None or widget.kind is Kind.FIELD
    attrs = {
        "index": str(index),
        "text": widget.shown_text(),
        "resource-id": widget.rid,
        "class": widget.android_class,
        "package": widget.package or package,
        "content-desc": widget.desc,
        "checkable": str(widget.checked is not None).lower(),
        "checked": str(bool(widget.checked)).lower(),
        "clickable": str(clickable).lower(),
        "enabled": "true",
        "focusable": str(clickable or widget.kind is Kind.LIST).lower(),
        "focused": str(widget.focused).lower(),
        "scrollable": str(widget.kind is Kind.LIST and widget.extent > visible[3] - visible[1]).lower(),
        "long-clickable": str(widget.on_long is not None).lower(),
        "password": str(widget.password).lower(),
        "selected": "false",
        "bounds": f"[{visible[0]},{visible[1]}][{visible[2]},{visible[3]}]",
    }
    if widget.kind is Kind.FIELD:
        attrs["hint"] = widget.hint
    body = " ".join(f'{name}="{xml_attr(value)}"' for name, value in attrs.items())
    kids = [(child, shown) for child in widget.children if (shown := intersect(child.bounds, visible))]
    if not kids:
        out.append(f"<node {body} />")
        return
    out.append(f"<node {body}>")
    for number, (child, shown) in enumerate(kids):
        package_of_child = widget.package or package
        _node_xml(child, number, shown, package_of_child, out)
    out.append("</node>")


def hierarchy_xml(windows: list[Widget], package: str, rotation: int = 0) -> str:
    """A uiautomator-style dump of the given window roots (system widgets left out)."""
    out = [f"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"{rotation}\">"]
    for index, root in enumerate(w for w in windows if not w.system):
        _node_xml(root, index, root.bounds, package, out)
    out.append("</hierarchy>")
    return "".join(out)
