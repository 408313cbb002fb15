"""Suite files: YAML, one per app, validated by pydantic with errors that name the file, line and field.

A suite holds cases. A case has a ``task`` (natural language, run by the agent) or ``steps``
(scripted, no model), optional ``setup`` steps, and ``expect`` assertions checked on the device::

    app: eBay
    cases:
      - name: search shows results
        tags: [smoke]
        setup: [{clear: eBay}, {launch: eBay}]
        steps:
          - tap: {id: "com.ebay.mobile:id/search_src_text"}
          - type: earbuds
          - key: ENTER
          - wait_for: {text: "results for", timeout: 10}
        expect:
          app: eBay
          text_visible: earbuds

``expect`` also takes ``checked`` (switches and checkboxes by id or text: ``{switch_wifi: true}``),
``image`` (an opencv template match on the screenshot) and ``judge`` (a statement the vision model
answers yes or no to, with its reason).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictInt,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from apps_registry.yaml_file import YamlDocument, YamlFileError, read_yaml

Coordinate = Annotated[StrictInt, Field(ge=0, le=999)]
Point = tuple[Coordinate, Coordinate]
KEYS = {"BACK": 4, "HOME": 3, "ENTER": 66, "DEL": 67, "TAB": 61, "SEARCH": 84, "MENU": 82, "APP_SWITCH": 187}


def slug(text: str) -> str:
    """A file-name-safe version of a case or suite name (a suite refuses case names that share one)."""
    return re.sub(r"[^\w]+", "-", text.casefold()).strip("-")[:60] or "case"


class SuiteError(ValueError):
    """A suite file is unreadable or invalid; the message names the file, line and field."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Locator(_Spec):
    """Where to act: by visible text, by resource-id, or at a 0-999 point."""

    text: str | None = None
    id: str | None = None
    point: Point | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Locator:
        if sum(value is not None for value in (self.text, self.id, self.point)) != 1:
            raise ValueError("give exactly one of text, id or point")
        return self

    def __str__(self) -> str:
        if self.text is not None:
            return f"text {self.text!r}"
        return f"id {self.id!r}" if self.id is not None else f"point {list(self.point or ())}"


def _locator(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class Launch(_Spec):
    launch: str


class Clear(_Spec):
    """Clear an app's data (``pm clear``), for a known starting state."""

    clear: str


class TapStep(_Spec):
    tap: Locator

    _text = field_validator("tap", mode="before")(lambda cls, v: _locator(v))


class LongPressStep(_Spec):
    long_press: Locator

    _text = field_validator("long_press", mode="before")(lambda cls, v: _locator(v))


class TypeStep(_Spec):
    type: str


class Key(_Spec):
    key: str | StrictInt

    @field_validator("key")
    @classmethod
    def _known(cls, value: str | int) -> str | int:
        if isinstance(value, str) and value.upper().removeprefix("KEYCODE_") not in KEYS:
            raise ValueError(f"unknown key {value!r}: use one of {', '.join(KEYS)} or a keycode number")
        return value

    @property
    def code(self) -> int:
        """The Android keycode."""
        return self.key if isinstance(self.key, int) else KEYS[self.key.upper().removeprefix("KEYCODE_")]


class SwipeSpec(_Spec):
    start: Point
    end: Point


Direction = Literal["up", "down", "left", "right"]


class Swipe(_Spec):
    """``swipe: up`` moves the content up (shows what is below), like a finger going up."""

    swipe: Direction | SwipeSpec


class ScrollUntilSpec(_Spec):
    text: str
    direction: Direction = "up"
    max_swipes: int = Field(default=10, ge=1, le=100)


class ScrollUntil(_Spec):
    scroll_until: ScrollUntilSpec

    _text = field_validator("scroll_until", mode="before")(lambda cls, v: {"text": v} if isinstance(v, str) else v)


class Shell(_Spec):
    """A shell command for setting the device up (``svc wifi enable``, ``settings put …``); it must exit 0."""

    shell: str = Field(min_length=1)


class Back(_Spec):
    back: None = None


class Home(_Spec):
    home: None = None


class WaitForSpec(_Spec):
    text: str
    timeout: float = Field(default=10.0, gt=0)


class WaitFor(_Spec):
    wait_for: WaitForSpec

    _text = field_validator("wait_for", mode="before")(lambda cls, v: {"text": v} if isinstance(v, str) else v)


class AiSpec(_Spec):
    task: str
    max_steps: int = Field(default=15, ge=1)


class Ai(_Spec):
    """A natural-language sub-task, run by the agent (the model is called, or replayed)."""

    ai: AiSpec

    _text = field_validator("ai", mode="before")(lambda cls, v: {"task": v} if isinstance(v, str) else v)


_STEP_TYPES: dict[str, type[_Spec]] = {
    "launch": Launch,
    "clear": Clear,
    "tap": TapStep,
    "long_press": LongPressStep,
    "type": TypeStep,
    "key": Key,
    "swipe": Swipe,
    "scroll_until": ScrollUntil,
    "back": Back,
    "home": Home,
    "wait_for": WaitFor,
    "ai": Ai,
    "shell": Shell,
}


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1:
        kind = next(iter(value))
        return kind if kind in _STEP_TYPES else None
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


Step = Annotated[
    Annotated[Launch, Tag("launch")]
    | Annotated[Clear, Tag("clear")]
    | Annotated[TapStep, Tag("tap")]
    | Annotated[LongPressStep, Tag("long_press")]
    | Annotated[TypeStep, Tag("type")]
    | Annotated[Key, Tag("key")]
    | Annotated[Swipe, Tag("swipe")]
    | Annotated[ScrollUntil, Tag("scroll_until")]
    | Annotated[Back, Tag("back")]
    | Annotated[Home, Tag("home")]
    | Annotated[WaitFor, Tag("wait_for")]
    | Annotated[Ai, Tag("ai")]
    | Annotated[Shell, Tag("shell")],
    Discriminator(
        _step_kind,
        custom_error_type="unknown_step",
        custom_error_message=f"each step is one of: {', '.join(_STEP_TYPES)} (a mapping with one key)",
    ),
]


def _steps(value: Any) -> Any:
    """Accept the bare words ``back`` and ``home`` as steps."""
    if isinstance(value, list):
        return [{item: None} if item in ("back", "home") else item for item in value]
    return value


def _strings(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class ImageExpect(_Spec):
    template: Path
    threshold: float = Field(default=0.9, gt=0, le=1)


class Expect(_Spec):
    """Assertions checked on the device after the case's steps, never taken from the model's word."""

    app: str | None = None
    text_visible: list[str] = Field(default_factory=list)
    text_absent: list[str] = Field(default_factory=list)
    checked: dict[str, bool] = Field(default_factory=dict)
    image: ImageExpect | None = None
    judge: str | None = None

    _lists = field_validator("text_visible", "text_absent", mode="before")(lambda cls, v: _strings(v))


class Case(_Spec):
    """One regression case."""

    name: str = Field(min_length=1)
    app: str | None = None
    tags: list[str] = Field(default_factory=list)
    setup: list[Step] = Field(default_factory=list)
    task: str | None = None
    max_steps: int = Field(default=20, ge=1)
    steps: list[Step] | None = None
    expect: Expect = Expect()
    teardown: list[Step] = Field(default_factory=list)
    timeout: float = Field(default=300.0, gt=0)
    retries: int = Field(default=0, ge=0, le=5)

    _step_lists = field_validator("setup", "steps", "teardown", mode="before")(lambda cls, v: _steps(v))
    _tags = field_validator("tags", mode="before")(lambda cls, v: _strings(v))

    @model_validator(mode="after")
    def _task_or_steps(self) -> Case:
        if (self.task is None) == (self.steps is None):
            raise ValueError("give either task (natural language) or steps (scripted), not both or neither")
        return self


class Suite(_Spec):
    """The cases of one file; ``app`` is the default app of its cases."""

    app: str | None = None
    cases: list[Case] = Field(min_length=1)
    path: Path = Path("<suite>")
    name: str = "suite"

    @model_validator(mode="after")
    def _unique_names(self) -> Suite:
        seen: dict[str, str] = {}
        for case in self.cases:
            key = slug(case.name)
            if key in seen:
                raise ValueError(
                    f"cases {seen[key]!r} and {case.name!r} are named too alike to keep apart in run directories "
                    "and recordings: rename one"
                    if seen[key] != case.name
                    else f"two cases are named {case.name!r}"
                )
            seen[key] = case.name
        return self


def load_suite(path: Path) -> Suite:
    """Read and validate one suite file.

    Raises:
        SuiteError: the file cannot be read, is not YAML, or does not describe a valid suite.
    """
    document = _read(path)
    data, root = document.data, document.root
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: a suite is a mapping with a 'cases' list")
    if {"name", "path"} & data.keys():
        raise SuiteError(f"{path}: 'name' and 'path' come from the file itself; remove them from the top level")
    try:
        return Suite.model_validate({**data, "path": path, "name": path.stem})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            # A step's tag repeats its key (steps.0.tap.tap): show it once.
            loc = [part for i, part in enumerate(error["loc"]) if i == 0 or part != error["loc"][i - 1]]
            field = ".".join(str(part) for part in loc) or "(top level)"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{path}:{_line(root, loc)}: {field}: {message}")
        raise SuiteError("\n".join(problems)) from None


def is_suite_file(path: Path) -> bool:
    """True for a YAML file whose top level has a ``cases`` list (cheap check, for collectors).

    Raises:
        SuiteError: the file cannot be read or the strict YAML reader refuses it, so it may be a broken suite.
    """
    if path.suffix not in (".yaml", ".yml"):
        return False
    data = _read(path).data
    return isinstance(data, dict) and isinstance(data.get("cases"), list)


def _read(path: Path) -> YamlDocument:
    """The file's YAML document.

    Raises:
        SuiteError: it cannot be read, is not UTF-8, too big, or not strict YAML (a duplicate key).
    """
    try:
        return read_yaml(path)
    except OSError as exc:
        raise SuiteError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except YamlFileError as exc:
        raise SuiteError(str(exc)) from None


def _line(root: yaml.Node | None, loc: list[Any]) -> int:
    """The 1-based line of the deepest YAML node along ``loc``."""
    node = root
    line = root.start_mark.line + 1 if root is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
