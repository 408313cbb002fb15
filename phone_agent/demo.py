"""``phone-agent demo``: the whole product on a virtual phone, with recorded model answers.

It starts an embedded virtual phone behind a private adb server, serves a recording of the model's
replies from a real local HTTP server, and runs the real loop (adbutils, HTTP, parsing) on it.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

import yaml

from phone_agent.sim.model_server import ReplayScript

if TYPE_CHECKING:
    from phone_agent.sim.phone import VirtualPhone

DEMO_TASK = "open eBay and search earbuds"
DEMO_SCRIPT = "sim/scripts/ebay_search.yaml"
DEMO_QUERY = "earbuds"


def demo_script() -> ReplayScript:
    """The shipped recording of the model's replies for the demo task."""
    text = resources.files("phone_agent").joinpath(DEMO_SCRIPT).read_text(encoding="utf-8")
    return ReplayScript.model_validate(yaml.safe_load(text))


def check_demo(phone: VirtualPhone) -> tuple[bool, str]:
    """Judge the demo from the phone's own state, not from the model's claim."""
    state = phone.state()
    foreground = state["foreground"]
    shown = [text for text in state["screen_texts"] if DEMO_QUERY in text.casefold()]
    if foreground["package"] != "com.ebay.mobile":
        return False, f"the app in front is {foreground['package']}, not eBay"
    if state["shop"]["query"] != DEMO_QUERY:
        return False, f"eBay searched for {state['shop']['query']!r}, not {DEMO_QUERY!r}"
    if not foreground["activity"].endswith("SearchResultsActivity") or len(shown) < 2:
        return False, "the search results for earbuds are not on screen"
    results = state["shop"]["results"]
    return True, f"eBay shows {len(results)} results for {DEMO_QUERY!r}, the first: {results[0]!r}"
