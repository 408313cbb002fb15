"""Finding elements in a ``uiautomator dump`` hierarchy by their text or resource-id."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass

_BOUNDS = re.compile(r"\[(-?\d+),(-?\d+)\]\[(-?\d+),(-?\d+)\]")


class ElementNotFound(LookupError):
    """No element matches; the message lists the texts that were on screen."""


@dataclass(frozen=True)
class Element:
    """One node of the hierarchy with an on-screen area."""

    text: str
    resource_id: str
    description: str
    bounds: tuple[int, int, int, int]
    checked: bool = False

    @property
    def centre(self) -> tuple[int, int]:
        """The pixel at the middle of the element."""
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2


def parse_hierarchy(xml: str) -> list[Element]:
    """Every node with a non-empty area, in document order.

    Raises:
        ValueError: the text is not a uiautomator hierarchy.
    """
    try:
        root = ElementTree.fromstring(xml.strip())
    except ElementTree.ParseError as exc:
        raise ValueError(f"the UI hierarchy is not valid XML ({exc})") from None
    elements = []
    for node in root.iter("node"):
        match = _BOUNDS.fullmatch(node.get("bounds", ""))
        if match is None:
            continue
        x1, y1, x2, y2 = map(int, match.groups())
        if x2 > x1 and y2 > y1:
            elements.append(
                Element(
                    node.get("text", ""),
                    node.get("resource-id", ""),
                    node.get("content-desc", ""),
                    (x1, y1, x2, y2),
                    node.get("checked") == "true",
                )
            )
    return elements


def screen_texts(elements: list[Element]) -> list[str]:
    """The distinct texts and descriptions on screen, in order."""
    return list(dict.fromkeys(t for e in elements for t in (e.text, e.description) if t.strip()))


def find(elements: list[Element], *, text: str | None = None, resource_id: str | None = None) -> Element:
    """The element with this resource-id, or this text (exact first, then contained, ignoring case).

    Raises:
        ElementNotFound: nothing matches.
    """
    if resource_id is not None:
        for element in elements:
            if element.resource_id == resource_id or element.resource_id.endswith(f":id/{resource_id}"):
                return element
        raise ElementNotFound(f"no element with id {resource_id!r}. {on_screen(elements)}")
    assert text is not None
    wanted = text.casefold()
    for exact in (True, False):
        for element in elements:
            for candidate in (element.text, element.description):
                value = candidate.casefold()
                if (value == wanted) if exact else (wanted in value and value):
                    return element
    raise ElementNotFound(f"no element shows {text!r}. {on_screen(elements)}")


def text_visible(elements: list[Element], text: str) -> bool:
    """True when some element's text or description contains ``text`` (ignoring case)."""
    wanted = text.casefold()
    return any(wanted in candidate.casefold() for e in elements for candidate in (e.text, e.description))


def on_screen(elements: list[Element]) -> str:
    """A sentence listing the texts on screen, for error messages."""
    texts = screen_texts(elements)
    shown = ", ".join(repr(t) for t in texts[:25]) + (", …" if len(texts) > 25 else "")
    return f"On screen: {shown}" if texts else "Nothing with text is on screen."
