"""The JSON tool-calling dialect: tool definitions from the models, tolerant parsing, a round-tripping inverse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import (
    ActionParseError,
    Back,
    Finish,
    LongPress,
    Swipe,
    TakeOver,
    Tap,
    Type,
    TypeName,
    Wait,
    parse_tool_call,
    tool_call_for,
    tool_definitions,
)
from actions.models import ACTION_TYPES
from tests.test_grammar import actions, any_text

EXPECTED_NAMES = {
    "tap", "type_text", "launch", "swipe", "long_press", "double_tap", "wait", "back", "home", "take_over",
    "interact", "note", "call_api", "finish", "type_name",
}


def functions() -> dict[str, dict[str, Any]]:
    return {tool["function"]["name"]: tool["function"] for tool in tool_definitions()}


def test_one_tool_per_action_with_the_models_fields() -> None:
    tools = functions()
    assert set(tools) == EXPECTED_NAMES and len(tools) == len(ACTION_TYPES)
    assert all(tool["type"] == "function" for tool in tool_definitions())
    for cls in ACTION_TYPES.values():
        tool = tools[tool_call_for(_sample(cls))[0]]
        fields = {name for name in cls.model_fields if name != "action"}
        parameters = tool["parameters"]
        assert set(parameters["properties"]) == fields and parameters["additionalProperties"] is False
        assert set(parameters["required"]) == {n for n in fields if cls.model_fields[n].is_required()}
        assert all(prop["description"] for prop in parameters["properties"].values())
        assert tool["description"]


def _sample(cls: type) -> Any:
    samples = {
        "Launch": {"app": "eBay"}, "Tap": {"element": (1, 2)}, "Type": {"text": "x"}, "Type_Name": {"text": "x"},
        "Swipe": {"start": (1, 2), "end": (3, 4)}, "Long Press": {"element": (1, 2)},
        "Double Tap": {"element": (1, 2)}, "Wait": {"duration": "1 seconds"}, "Call_API": {"instruction": "x"},
    }
    return cls(**samples.get(cls.model_fields["action"].default, {}))


def test_points_are_two_whole_numbers_from_0_to_999_in_plain_json_schema() -> None:
    element = functions()["tap"]["parameters"]["properties"]["element"]
    assert element["type"] == "array" and element["minItems"] == element["maxItems"] == 2
    assert element["items"] == {"type": "integer", "minimum": 0, "maximum": 999}
    text = json.dumps(tool_definitions())
    assert "prefixItems" not in text and "anyOf" not in text and '"title"' not in text
    assert functions()["tap"]["parameters"]["properties"]["message"]["type"] == "string"


def test_definitions_are_a_fresh_copy() -> None:
    tool_definitions()[0]["function"]["name"] = "changed"
    assert tool_definitions()[0]["function"]["name"] != "changed"


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("tap", '{"element": [500, 145]}', Tap(element=(500, 145))),
        ("tap", '{"element": [500.0, 145], "message": "Pay $20"}', Tap(element=(500, 145), message="Pay $20")),
        ("Tap", '{"element": [1, 2]}', Tap(element=(1, 2))),
        ("functions.tap", '{"element": [1, 2]}', Tap(element=(1, 2))),
        ("type_text", '{"text": "耳机 \\"pro\\""}', Type(text='耳机 "pro"')),
        ("Type", '{"text": "x"}', Type(text="x")),
        ("type_name", '{"text": "李雷"}', TypeName(text="李雷")),
        ("Long Press", '{"element": [5, 6]}', LongPress(element=(5, 6))),
        ("swipe", '{"start": [500, 800], "end": [500, 200]}', Swipe(start=(500, 800), end=(500, 200))),
        ("wait", '{"duration": 2}', Wait(duration="2 seconds")),
        ("wait", '{"duration": 1.5}', Wait(duration="1.5 seconds")),
        ("back", "", Back()),
        ("back", "{}", Back()),
        ("back", "null", Back()),
        ("take_over", '{"message": "Please sign in"}', TakeOver(message="Please sign in")),
        ("finish", '"{\\"message\\": \\"done\\"}"', Finish(message="done")),
    ],
)
def test_tool_calls_parse_tolerantly(name: str, arguments: str, expected: object) -> None:
    assert parse_tool_call(name, arguments) == expected


@pytest.mark.parametrize(
    ("name", "arguments", "fragment"),
    [
        ("fly", "{}", 'There is no tool "fly". Call one of: launch, tap'),
        ("tap", '{"element": [500, 145]', "not valid JSON"),
        ("tap", "[500, 145]", "must be a JSON object"),
        ("tap", "{}", 'missing "element"'),
        ("tap", '{"element": [1000, 5]}', "0 to 999"),
        ("tap", '{"element": [-1, 5]}', "0 to 999"),
        ("tap", '{"element": [1.5, 5]}', "0 to 999"),
        ("tap", '{"element": ["1", "2"]}', "0 to 999"),
        ("tap", '{"element": [1, 2, 3]}', '"element"'),
        ("tap", '{"x": 1, "y": 2}', 'tap does not take "x", "y" (it takes: element, message)'),
        ("back", '{"element": [1, 2]}', "takes no arguments"),
        ("type_text", '{"text": 5}', '"text" input should be a valid string'),
        ("launch", '{"app": ""}', '"app"'),
        ("wait", '{"duration": "soon"}', "number of seconds"),
        ("wait", '{"duration": -2}', "number of seconds"),
        ("tap", '{"element": [500, 145], "action": "Back"}', 'does not take "action"'),
    ],
)
def test_bad_calls_raise_errors_written_for_the_model(name: str, arguments: str, fragment: str) -> None:
    with pytest.raises(ActionParseError) as info:
        parse_tool_call(name, arguments)
    assert fragment in str(info.value)


def test_errors_show_valid_example_arguments() -> None:
    with pytest.raises(ActionParseError, match=r'Example arguments: \{"element": \[500, 500\]\}'):
        parse_tool_call("tap", '{"element": [9999, 1]}')


def test_tool_call_for_writes_json_without_unset_fields() -> None:
    assert tool_call_for(Tap(element=(500, 145))) == ("tap", '{"element": [500, 145]}')
    assert tool_call_for(Type(text="耳机")) == ("type_text", '{"text": "耳机"}')
    assert tool_call_for(Back()) == ("back", "{}")


@given(actions)
@settings(max_examples=400)
def test_tool_call_for_then_parse_is_identity(action: Any) -> None:
    assert parse_tool_call(*tool_call_for(action)) == action


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
names = st.sampled_from(sorted(EXPECTED_NAMES | {"Long Press", "finish", "do", ""})) | st.text(max_size=20)
arguments = (
    st.text()
    | json_values.map(json.dumps)
    | st.dictionaries(st.sampled_from(["element", "start", "end", "text", "app", "duration", "message"]),
                      json_values, max_size=3).map(json.dumps)
)


@given(names, arguments)
@settings(max_examples=600)
def test_arbitrary_calls_raise_nothing_but_action_parse_error(name: str, args: str) -> None:
    try:
        parse_tool_call(name, args)
    except ActionParseError as exc:
        assert str(exc)  # every rejection carries a message for the model


def test_deeply_nested_arguments_are_a_parse_error() -> None:
    with pytest.raises(ActionParseError, match="not valid JSON"):
        parse_tool_call("tap", "[" * 9_000 + "]" * 9_000)
    with pytest.raises(ActionParseError, match="not valid JSON"):
        parse_tool_call("tap", json.dumps("{" + "[" * 9_000 + "]" * 9_000 + "}"))  # encoded twice


def test_huge_arguments_get_a_clear_error() -> None:
    with pytest.raises(ActionParseError, match="longer than 20,000 characters"):
        parse_tool_call("type_text", json.dumps({"text": "a" * 1_000_000}))


@pytest.mark.parametrize(
    ("arguments", "text"),
    [
        ('{"text": "earbuds \\ud83c\\udfa7"}', "earbuds \U0001f3a7"),  # a pair escaped in the JSON
        ('{"text": "earbuds \ud83c\udfa7"}', "earbuds \U0001f3a7"),  # a pair split across stream pieces
        ('{"text": "half \\ud83d"}', "half \ufffd"),
        ('{"text": "half \ud83d"}', "half \ufffd"),
    ],
)
def test_surrogates_in_arguments_are_joined_or_replaced(arguments: str, text: str) -> None:
    assert parse_tool_call("type_text", arguments) == Type(text=text)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [("type_text", '{"te\\ud83dxt": "a"}'), ("tap\ud83d", "{}"), ("tap", '{"element": ["\\ud83d", 1]}')],
)
def test_errors_about_surrogates_can_be_written_anywhere(name: str, arguments: str) -> None:
    with pytest.raises(ActionParseError) as info:
        parse_tool_call(name, arguments)
    assert str(info.value).encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate


@given(names | any_text, any_text | any_text.map(lambda text: json.dumps({"text": text, text: [1, 2]})))
@settings(max_examples=400)
def test_calls_with_any_characters_give_an_action_or_a_writable_error(name: str, args: str) -> None:
    try:
        action = parse_tool_call(name, args)
    except ActionParseError as exc:
        assert str(exc).encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
    else:
        assert action.model_dump_json().encode("utf-8")
