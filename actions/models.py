"""The AutoGLM action vocabulary as typed pydantic models.

Every action is a frozen model with ``extra="forbid"``; ``Action`` is their union, discriminated by
the ``action`` field, which holds the name the model writes (``"Long Press"``, ``"finish"``, ...).
Coordinates are in the model's 0-999 space, x then y.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, TypeAdapter, field_validator

Coordinate = Annotated[StrictInt, Field(ge=0, le=999)]
Point = tuple[Coordinate, Coordinate]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds?)?\s*$", re.IGNORECASE)


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Whether the action acts on the screen: the loop waits for such a screen to settle, and the
    # stuck guard counts such actions. The others talk to the person, the model, or the clock.
    changes_screen: ClassVar[bool] = False


class Launch(_Action):
    """Open an app by its name (resolved through the app registry)."""

    action: Literal["Launch"] = "Launch"
    changes_screen: ClassVar[bool] = True
    app: StrictStr = Field(min_length=1)


class Tap(_Action):
    """Tap a point. A ``message`` marks the tap as sensitive: the person must confirm it."""

    action: Literal["Tap"] = "Tap"
    changes_screen: ClassVar[bool] = True
    element: Point
    message: StrictStr | None = None


class Type(_Action):
    """Replace the focused field's text."""

    action: Literal["Type"] = "Type"
    changes_screen: ClassVar[bool] = True
    text: StrictStr


class TypeName(_Action):
    """Type a person's name into the focused field."""

    action: Literal["Type_Name"] = "Type_Name"
    changes_screen: ClassVar[bool] = True
    text: StrictStr


class Swipe(_Action):
    """Swipe from ``start`` to ``end`` (scrolls lists, flips pages)."""

    action: Literal["Swipe"] = "Swipe"
    changes_screen: ClassVar[bool] = True
    start: Point
    end: Point


class LongPress(_Action):
    """Press and hold a point."""

    action: Literal["Long Press"] = "Long Press"
    changes_screen: ClassVar[bool] = True
    element: Point


class DoubleTap(_Action):
    """Tap a point twice in quick succession."""

    action: Literal["Double Tap"] = "Double Tap"
    changes_screen: ClassVar[bool] = True
    element: Point


class Wait(_Action):
    """Wait for the screen to load, e.g. ``duration="2 seconds"``."""

    action: Literal["Wait"] = "Wait"
    duration: StrictStr

    @field_validator("duration")
    @classmethod
    def _has_seconds(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError('must be a number of seconds such as "2 seconds"')
        return value

    @property
    def seconds(self) -> float:
        """The duration as a number of seconds."""
        match = _DURATION.match(self.duration)
        assert match is not None  # guaranteed by the validator
        return float(match.group(1))


class Back(_Action):
    """Press the system Back button."""

    action: Literal["Back"] = "Back"
    changes_screen: ClassVar[bool] = True


class Home(_Action):
    """Go to the home screen."""

    action: Literal["Home"] = "Home"
    changes_screen: ClassVar[bool] = True


class TakeOver(_Action):
    """Ask the person to do a step by hand (login, captcha), then continue."""

    action: Literal["Take_over"] = "Take_over"
    message: StrictStr = ""


class Interact(_Action):
    """Ask the person to choose between options; their answer goes back to the model."""

    action: Literal["Interact"] = "Interact"
    message: StrictStr = ""


class Note(_Action):
    """Remember the current page for later (``Call_API`` can summarise what was noted)."""

    action: Literal["Note"] = "Note"
    message: StrictStr = ""


class CallAPI(_Action):
    """Ask the model to summarise or comment on the noted pages."""

    action: Literal["Call_API"] = "Call_API"
    instruction: StrictStr = Field(min_length=1)


class Finish(_Action):
    """End the task with a message for the person."""

    action: Literal["finish"] = "finish"
    message: StrictStr = ""


Action = Annotated[
    Launch | Tap | Type | TypeName | Swipe | LongPress | DoubleTap | Wait | Back | Home | TakeOver
    | Interact | Note | CallAPI | Finish,
    Field(discriminator="action"),
]

ACTION_ADAPTER: TypeAdapter[Action] = TypeAdapter(Action)

ACTION_TYPES: dict[str, type[_Action]] = {
    cls.model_fields["action"].default: cls
    for cls in (Launch, Tap, Type, TypeName, Swipe, LongPress, DoubleTap, Wait, Back, Home, TakeOver,
                Interact, Note, CallAPI, Finish)
}
