"""Noticing when a run goes round in circles.

Three patterns are detected from the steps so far (only actions that act on the screen count;
Wait, Note, Call_API, Interact and Take_over are left out):

- **repeat**: the same action (same kind, points within a small tolerance in 0-999 space, same text)
  K times in a row, none of which changed the screen;
- **cycle**: the last 2N screens alternate between the same two or three screens;
- **no change**: M actions in a row after which the screen looked the same.

``StuckGuard.watch`` says what to do next: a first detection is noted to the model, and a detection
right after that note goes to the person (the run stops with status ``stuck`` when nobody is there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from actions import Action, format_action
from phone_agent.device.frames import Frame
from phone_agent.model.messages import Language

Kind = Literal["repeat", "cycle", "no_change"]
POINT_TOLERANCE = 20  # in 0-999 space: about 2 % of the screen

_NOTES: dict[Language, dict[Kind, str]] = {
    "en": {
        "repeat": "Note: your last {count} actions were the same ({action}) and the screen did not change.",
        "cycle": "Note: for the last {count} steps the screen has gone back and forth between the same "
        "{screens} screens.",
        "no_change": "Note: the screen has not changed after any of your last {count} actions.",
    },
    "zh": {
        "repeat": "注意：你最近 {count} 次执行了相同的操作（{action}），屏幕没有任何变化。",
        "cycle": "注意：最近 {count} 步中，屏幕一直在相同的 {screens} 个页面之间来回切换。",
        "no_change": "注意：你最近的 {count} 个操作之后，屏幕都没有变化。",
    },
}
_ADVICE: dict[Language, str] = {
    "en": " Try something different (scroll, go back, or another element), or finish and explain why the "
    "task cannot be done.",
    "zh": "请换一种方式（滑动、返回或点击其他元素），或者结束任务并说明无法完成的原因。",
}


@dataclass(frozen=True)
class StuckSettings:
    """Thresholds of the three patterns."""

    repeat_limit: int = 3
    cycle_length: int = 3
    no_change_limit: int = 5


@dataclass(frozen=True)
class Detection:
    """A pattern found: which, and a one-line description in the run's language."""

    kind: Kind
    description: str

    def note(self, lang: Language) -> str:
        """The note for the model: what was observed and what to do instead."""
        return self.description + _ADVICE[lang]


@dataclass(frozen=True)
class Escalation:
    """What to do about a detection: note it to the model, or (``ask_person``) ask the person."""

    detection: Detection
    ask_person: bool

    def situation(self, app: str, action: Action) -> str:
        """The detection as the person is asked about it."""
        return f"{self.detection.description} The phone shows {app}; the last action was {format_action(action)}."

    def stop_message(self) -> str:
        """Why the run stops when the person says so, or when nobody is there."""
        return f"Stopped: the agent was going round in circles. {self.detection.description}"

    def feedback(self, took_over: bool, lang: Language) -> str:
        """What the model is told next: that the person stepped in, or what was observed."""
        if took_over:
            return "The person stepped in and handed the phone back. Look at the screen again."
        return self.detection.note(lang)


@dataclass
class StuckGuard:
    """Keeps the screen-acting steps of one run and looks for the patterns after each."""

    settings: StuckSettings
    lang: Language = "en"
    _actions: list[Action] = field(default_factory=list)
    _screens: list[Frame] = field(default_factory=list)  # _screens[i] was seen before _actions[i]
    _noted: bool = False  # the last step's detection was noted to the model

    def watch(self, action: Action, before: Frame, after: Frame | None) -> Escalation | None:
        """After a step (``after`` None: a person acted or time passed): what to do about a loop, if any."""
        if not action.changes_screen or after is None:
            return None
        detection = self.record(action, before, after)
        if detection is None or not self._noted:
            self._noted = detection is not None
            return None if detection is None else Escalation(detection, ask_person=False)
        self._noted = False
        self.reset()
        return Escalation(detection, ask_person=True)

    def record(self, action: Action, before: Frame, after: Frame) -> Detection | None:
        """Add one step (the screen before it and after it) and report a pattern if there is one."""
        if not action.changes_screen:
            return None
        if self._screens and self._screens[-1] is not before and not self._screens[-1].same(before):
            # Something else moved the screen in between (a person, a Wait): start afresh.
            self.reset()
        if not self._screens:
            self._screens.append(before)
        self._actions.append(action)
        self._screens.append(after)
        return self._repeat() or self._cycle() or self._no_change()

    def reset(self) -> None:
        """Forget the steps so far (after the person stepped in or chose to continue)."""
        self._actions.clear()
        self._screens.clear()

    def _unchanged(self, index: int) -> bool:
        return self._screens[index].same(self._screens[index + 1])

    def _repeat(self) -> Detection | None:
        count = self.settings.repeat_limit
        if len(self._actions) < count:
            return None
        last = self._actions[-count:]
        indices = range(len(self._actions) - count, len(self._actions))
        if all(_similar(last[0], other) for other in last[1:]) and all(self._unchanged(i) for i in indices):
            return self._found("repeat", count=count, action=format_action(last[-1]))
        return None

    def _cycle(self) -> Detection | None:
        window = 2 * self.settings.cycle_length
        if len(self._screens) < window:
            return None
        screens = self._screens[-window:]
        for period in (2, 3):
            repeats = all(screens[i].same(screens[i + period]) for i in range(window - period))
            distinct = not any(screens[i].same(screens[j]) for i in range(period) for j in range(i + 1, period))
            if repeats and distinct:
                return self._found("cycle", count=window, screens=period)
        return None

    def _no_change(self) -> Detection | None:
        count = self.settings.no_change_limit
        if len(self._actions) < count:
            return None
        if all(self._unchanged(i) for i in range(len(self._actions) - count, len(self._actions))):
            return self._found("no_change", count=count)
        return None

    def _found(self, kind: Kind, **values: object) -> Detection:
        return Detection(kind, _NOTES[self.lang][kind].format(**values))


def _similar(a: Action, b: Action) -> bool:
    """Same kind of action with the same arguments, points allowed to differ a little."""
    if type(a) is not type(b):
        return False
    for (_, left), (_, right) in zip(a, b, strict=True):
        if isinstance(left, tuple) and isinstance(right, tuple):
            if any(abs(p - q) > POINT_TOLERANCE for p, q in zip(left, right, strict=True)):
                return False
        elif left != right:
            return False
    return True
