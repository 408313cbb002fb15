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
    checkable: bool = False

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
                    node.get("checkable") == "true",
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
    for element in elements:
        if wanted in (element.text.casefold(), element.description.casefold()):
            return element
    for element in elements:
        if contains_words(element.text, text) or contains_words(element.description, text):
            return element
    raise ElementNotFound(f"no element shows {text!r}. {on_screen(elements)}")


def text_visible(elements: list[Element], text: str) -> bool:
    """True when some element's text or description contains ``text`` as whole words (ignoring case)."""
    return any(contains_words(e.text, text) or contains_words(e.description, text) for e in elements)


def contains_words(haystack: str, needle: str) -> bool:
    """``needle`` occurs in ``haystack`` not glued to other Latin letters or digits ("1 result" is not in
    "11 results"); CJK text, which has no spaces, matches anywhere."""
    if not needle:
        return False
    before = r"(?<![A-Za-z0-9])" if _is_word(needle[0]) else ""
    after = r"(?![A-Za-z0-9])" if _is_word(needle[-1]) else ""
    return re.search(before + re.escape(needle) + after, haystack, re.IGNORECASE) is not None


def _is_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def on_screen(elements: list[Element]) -> str:
    """A sentence listing the texts on screen, for error messages."""
    texts = screen_texts(elements)
    shown = ", ".join(repr(t) for t in texts[:25]) + (", …" if len(texts) > 25 else "")
    return f"On screen: {shown}" if texts else "Nothing with text is on screen."
