"""The AutoGLM grammar: tolerant parsing, model-readable errors, and a round-tripping formatter."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions import (
    ActionParseError,
    Back,
    CallAPI,
    DoubleTap,
    Finish,
    Home,
    Interact,
    Launch,
    LongPress,
    Note,
    Swipe,
    TakeOver,
    Tap,
    Type,
    TypeName,
    Wait,
    format_action,
    parse_action,
    parse_reply,
)


def test_full_reply_splits_thinking_and_answer() -> None:
    reply = '<think>The search box is at the top.</think><answer>do(action="Tap", element=[500, 80])</answer>'
    parsed = parse_reply(reply)
    assert parsed.thinking == "The search box is at the top."
    assert parsed.answer == 'do(action="Tap", element=[500, 80])'
    assert parsed.action == Tap(element=(500, 80))


@pytest.mark.parametrize(
    "reply",
    [
        'do(action="Back")',
        '  <answer>  do(action="Back")  </answer>  ',
        '<think>go back</think>\n<answer>do(action="Back")',
        'go back\ndo(action="Back")</answer>',
        '<think>go back</think>do(action="Back")',
        '```python\ndo(action="Back")\n```',
        '<answer>```\ndo(action="Back")\n```</answer>',
        'do(action = "back")',
    ],
)
def test_tolerates_what_models_really_send(reply: str) -> None:
    assert parse_reply(reply).action == Back()


def test_a_call_named_in_untagged_reasoning_is_not_taken_for_the_answer() -> None:
    parsed = parse_reply('<think>I need to finish (the search) first.</think>do(action="Back")')
    assert parsed.action == Back() and parsed.thinking == "I need to finish (the search) first."
    parsed = parse_reply('I will do (as planned) the tap now.\ndo(action="Tap", element=[1, 2])')
    assert parsed.action == Tap(element=(1, 2))


def test_untagged_reply_reports_the_error_of_its_last_call() -> None:
    with pytest.raises(ActionParseError, match="0 to 999"):
        parse_reply('I should finish (soon).\ndo(action="Tap", element=[5000, 1])')


def test_thinking_without_tags_is_the_text_before_the_call() -> None:
    parsed = parse_reply('I should open the app first.\ndo(action="Launch", app="eBay")')
    assert parsed.thinking == "I should open the app first."
    assert parsed.action == Launch(app="eBay")


def test_text_with_quotes_commas_and_brackets_is_exact() -> None:
    action = parse_action(r'do(action="Type", text="he said \"hi\", [ok]")')
    assert action == Type(text='he said "hi", [ok]')


@pytest.mark.parametrize(
    "text",
    ["第一行\n第二行", "emoji 🎧👍", "a\\b", "it's", "$(rm -rf /); `id` && echo |", "tab\there", "finish(message=)"],
)
def test_text_round_trips_through_the_grammar(text: str) -> None:
    answer = format_action(Type(text=text))
    assert parse_reply(f"<answer>{answer}</answer>").action == Type(text=text)


def test_raw_newline_inside_a_string_is_accepted() -> None:
    assert parse_action('do(action="Type", text="line one\nline two")') == Type(text="line one\nline two")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ('do(action="Launch", app="微信")', Launch(app="微信")),
        ('do(action="Tap", element=[0, 999], message="Pay now")', Tap(element=(0, 999), message="Pay now")),
        ('do(action="Type_Name", text="李雷")', TypeName(text="李雷")),
        ('do(action="Swipe", start=[500, 800], end=[500, 200])', Swipe(start=(500, 800), end=(500, 200))),
        ('do(action="Long Press", element=[10, 20])', LongPress(element=(10, 20))),
        ('do(action="long_press", element=[10, 20])', LongPress(element=(10, 20))),
        ('do(action="Double Tap", element=[10, 20])', DoubleTap(element=(10, 20))),
        ('do(action="Wait", duration="2 seconds")', Wait(duration="2 seconds")),
        ('do(action="Home")', Home()),
        ('do(action="Take_over", message="Please log in")', TakeOver(message="Please log in")),
        ('do(action="Interact")', Interact()),
        ('do(action="Note", message="True")', Note(message="True")),
        ('do(action="Call_API", instruction="Summarise the prices")', CallAPI(instruction="Summarise the prices")),
        ('finish(message="Done: 3 results")', Finish(message="Done: 3 results")),
        ('finish("Done")', Finish(message="Done")),
    ],
)
def test_every_action_parses(answer: str, expected: object) -> None:
    assert parse_action(answer) == expected


def test_wait_duration_in_seconds() -> None:
    assert parse_action('do(action="Wait", duration="1.5 seconds")').seconds == 1.5  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        ('do(action="Fly", element=[1, 2])', 'Unknown action "Fly"'),
        ('do(action="Tap", element=[1000, 5])', "0 to 999"),
        ('do(action="Tap", element=[-1, 5])', "0 to 999"),
        ('do(action="Tap", element=["1", "2"])', "0 to 999"),
        ('do(action="Tap", element=[1, 2, 3])', "element="),
        ('do(action="Tap")', "missing argument element="),
        ('do(action="Back", element=[1, 2])', "unexpected argument element="),
        ('do(action="Type", text=5)', "text="),
        ('do(action="Wait", duration="soon")', "seconds"),
        ('do(action="Back")\ndo(action="Home")', "more than one"),
        ('do(action="Back"); do(action="Home")', "more than one"),
        ('do(action="Back"), do(action="Home")', "several actions"),
        ('do(action="Tap", element=[1, 2]', "not valid syntax"),
        ('do(action="Type", text=open("/etc/passwd").read())', "plain value"),
        ('do(action="Type", text=__import__("os").system("id"))', "plain value"),
        ("click(1, 2)", "no action"),
        ('run(action="Back")', "no action"),
        ("print(1)", "no action"),
        ("<answer></answer>", "empty"),
        ("I am not sure what to do.", "no action"),
        ("do(action=Tap, element=[1, 2])", "plain value"),
    ],
)
def test_bad_answers_raise_errors_written_for_the_model(answer: str, fragment: str) -> None:
    with pytest.raises(ActionParseError) as info:
        parse_reply(answer)
    assert fragment in str(info.value)


def test_unknown_action_lists_valid_names() -> None:
    with pytest.raises(ActionParseError, match='"Long Press"'):
        parse_action('do(action="Scroll")')


points = st.tuples(st.integers(0, 999), st.integers(0, 999))
texts = st.text(st.characters(exclude_categories=["Cs"]))
actions = st.one_of(
    st.builds(Launch, app=texts.filter(bool)),
    st.builds(Tap, element=points, message=st.none() | texts),
    st.builds(Type, text=texts),
    st.builds(TypeName, text=texts),
    st.builds(Swipe, start=points, end=points),
    st.builds(LongPress, element=points),
    st.builds(DoubleTap, element=points),
    st.builds(Wait, duration=st.floats(0, 100).map(lambda s: f"{s:.1f} seconds")),
    st.just(Back()),
    st.just(Home()),
    st.builds(TakeOver, message=texts),
    st.builds(Interact, message=texts),
    st.builds(Note, message=texts),
    st.builds(CallAPI, instruction=texts.filter(bool)),
    st.builds(Finish, message=texts),
)


@given(actions)
@settings(max_examples=400)
def test_format_then_parse_is_identity(action: object) -> None:
    assert parse_action(format_action(action)) == action  # type: ignore[arg-type]


# Any text at all, lone surrogates included (what a stream that splits an emoji's UTF-16 pair yields).
any_text = st.text(st.characters() | st.characters(categories=["Cs"]))


@given(any_text | any_text.map(lambda text: f'<answer>do(action="Type", text="{text}")</answer>'))
@settings(max_examples=400)
def test_arbitrary_text_raises_nothing_but_action_parse_error(reply: str) -> None:
    try:
        parsed = parse_reply(reply)
    except ActionParseError as exc:
        assert str(exc).encode("utf-8")  # every rejection carries a message that can be written anywhere
    else:
        (parsed.thinking + parsed.answer + parsed.action.model_dump_json()).encode("utf-8")


@given(st.text(alphabet="do()[]\"\\,=<>/ actionTapelm0123456789\n'finshmsg"))
@settings(max_examples=400)
def test_grammar_shaped_text_raises_nothing_but_action_parse_error(reply: str) -> None:
    try:
        parse_reply(reply)
    except ActionParseError as exc:
        assert str(exc)  # every rejection carries a message for the model


@pytest.mark.parametrize(
    "reply",
    [
        'do(action="Tap", element=[' + "1+" * 5_000 + "1, 1])",
        'do(action="Tap", element=' + "[" * 5_000 + "]" * 5_000 + ")",
        "<answer>" + "a." * 5_000 + "b()</answer>",
        '<answer>do(action="Back", x=' + "not " * 5_000 + "y)</answer>",
        "finish(message=" + "-" * 5_000 + "1)",
        '<answer>do(action="Type", text="\ud83d")</answer>',
        '<answer>do(action="Fly \ud83d")</answer>',
        "<answer>\ud83d(action=1)</answer>",
        "\ud83d do(action=\ud83d",
        'do(action="Tap", element=[' + "9" * 5_000 + ", 1])",
        "<answer>do(action=\"Back\")\x00</answer>",
    ],
)
def test_hostile_replies_give_an_action_or_an_error_the_model_can_read(reply: str) -> None:
    try:
        parsed = parse_reply(reply)
    except ActionParseError as exc:
        assert str(exc).encode("utf-8")
    else:
        parsed.action.model_dump_json().encode("utf-8")


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        ('<answer>do(action="Type", text="hi \ud83c\udfa7")</answer>', "hi \U0001f3a7"),  # a pair split in two
        ('<answer>do(action="Type", text="hi \\ud83c\\udfa7")</answer>', "hi \U0001f3a7"),  # escaped in the literal
        ('<answer>do(action="Type", text="hi \ud83d")</answer>', "hi \ufffd"),
        ('<answer>do(action="Type", text="hi \\ud83d")</answer>', "hi \ufffd"),
        ('do(action="Type", text="hi \udfa7\ud83c")', "hi \ufffd\ufffd"),
    ],
)
def test_surrogate_pairs_are_joined_and_lone_halves_replaced(reply: str, text: str) -> None:
    assert parse_reply(reply).action == Type(text=text)


def test_a_huge_answer_gets_a_clear_error() -> None:
    long_text = "a" * 30_000
    for reply in (f'<answer>do(action="Type", text="{long_text}")</answer>', f'do(action="Type", text="{long_text}")'):
        with pytest.raises(ActionParseError, match="longer than 20,000 characters"):
            parse_reply(reply)
    assert parse_reply(f'do(action="Type", text="{"a" * 19_000}")').action == Type(text="a" * 19_000)


def test_a_rambling_untagged_reply_still_ends_in_its_action() -> None:
    rambling = 'I could do(action="Tap", element=[1, 2]) or finish (it) or say "don\'t" (maybe [1, 2]. ' * 20_000
    parsed = parse_reply(rambling + 'do(action="Type", text="do(action=\\"Back\\") )")')
    assert parsed.action == Type(text='do(action="Back") )')
    assert parsed.thinking == rambling.strip()
    with pytest.raises(ActionParseError, match="more than one"):
        parse_reply(rambling + 'do(action="Back");  do(action="Home")')
    with pytest.raises(ActionParseError, match="0 to 999"):
        parse_reply(rambling + 'do(action="Tap", element=[5000, 1])')
    with pytest.raises(ActionParseError, match="not valid syntax"):
        parse_reply(rambling + 'do(action="Tap", element=[5, 1]')


def test_a_reply_with_an_invalid_escape_sequence_warns_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Python 3.11 raises a DeprecationWarning for "\\~", later ones a SyntaxWarning
        parsed = parse_reply('<answer>do(action="Type", text="a\\~b")</answer>')
    assert parsed.action == Type(text="a\\~b")
