"""Time of a Type action on the virtual phone: the first of a run, the ones after it, and giving the keyboard back.

Each run starts a fresh phone that charges a real phone's command costs (``--profile``), opens eBay's
search field and types a few texts (CJK, emoji, quotes) over each device channel (``--channel``),
through the real adb server. Prints the median seconds per kind of Type.

    python scripts/bench_type.py [--profile mid-range] [--channel adb,scrcpy] [--repeats 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from phone_agent.device.adb import AdbDevice
from phone_agent.device.channel import CHANNELS, ChannelName, open_channel
from phone_agent.sim.testing import AdbServer, PhoneSession, adb_server, running_phone

TEXTS = ("耳机 降噪", 'say "hi" 🎧', "it's $(id) & `ls`", "line1\nline2")
FIELD = "com.ebay.mobile:id/search_src_text"


def _field_centre(session: PhoneSession) -> tuple[int, int]:
    node = re.search(rf'<node [^>]*resource-id="{FIELD}"[^>]*bounds="([^"]+)"', session.phone.ui.hierarchy_xml())
    assert node is not None, FIELD
    x1, y1, x2, y2 = map(int, re.findall(r"\d+", node.group(1)))
    return (x1 + x2) // 2, (y1 + y2) // 2


def run(server: AdbServer, profile: str, channel: ChannelName) -> dict[str, list[float]]:
    """One run on a fresh phone: seconds of the first Type, of each later one, and of the release."""
    times: dict[str, list[float]] = {"first": [], "later": [], "release": []}
    with (
        running_phone(server, profile=profile) as session,
        AdbDevice.connect(session.phone.serial, port=server.port) as adb,
        open_channel(adb, channel) as opened,
    ):
        device = opened.device
        device.launch("com.ebay.mobile")
        x, y = _field_centre(session)
        device.tap(*device_point(x, y, session, device.screen_size()))
        for index, text in enumerate(TEXTS):
            began = time.perf_counter()
            device.type_text(text)
            times["first" if index == 0 else "later"].append(time.perf_counter() - began)
            typed(session, text)
        began = time.perf_counter()
        device.release_input()
        times["release"].append(time.perf_counter() - began)
    return times


def typed(session: PhoneSession, text: str) -> None:
    """Wait until the field shows ``text`` (scrcpy's paste lands after Type returns)."""
    deadline = time.monotonic() + 5
    while session.phone.state()["text_fields"].get(FIELD) != text:
        assert time.monotonic() < deadline, f"the field shows {session.phone.state()['text_fields'].get(FIELD)!r}"
        time.sleep(0.01)


def device_point(x: int, y: int, session: PhoneSession, size: tuple[int, int]) -> tuple[int, int]:
    """A display point in the channel's pixels (the scrcpy video may be smaller than the display)."""
    width, height = session.phone.ui.width, session.phone.ui.height
    return x * size[0] // width, y * size[1] // height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="mid-range", help="instant, flagship, mid-range or emulator")
    parser.add_argument("--channel", default="adb,scrcpy", help="device channels, comma-separated")
    parser.add_argument("--repeats", type=int, default=5, help="runs per channel")
    args = parser.parse_args()
    channels = args.channel.split(",")
    if not set(channels) <= set(CHANNELS):
        parser.error(f"--channel takes {', '.join(CHANNELS)}, comma-separated")
    print(f"profile {args.profile}: median seconds ({args.repeats} runs)")
    print(f"{'channel':>7} {'first':>7} {'later':>7} {'release':>8}")
    with adb_server() as server:
        for channel in channels:
            runs = [run(server, args.profile, channel) for _ in range(args.repeats)]
            medians = {kind: statistics.median(t for times in runs for t in times[kind]) for kind in runs[0]}
            print(f"{channel:>7} {medians['first']:7.3f} {medians['later']:7.3f} {medians['release']:8.3f}")


if __name__ == "__main__":
    main()
