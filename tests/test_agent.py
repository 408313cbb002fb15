"""The loop end to end with a scripted model and an in-process device."""

from __future__ import annotations

import pytest

from actions import Back, Launch, Tap
from phone_agent.errors import DeviceError
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.loop.results import Listener, StepResult
from tests.support import FakeClock, FakeDevice, ScriptedHandOff, ScriptedModel


def make_agent(
    replies: list[str], device: FakeDevice | None = None, **kwargs: object
) -> tuple[PhoneAgent, FakeDevice, ScriptedModel]:
    device = device or FakeDevice()
    model = ScriptedModel(replies)
    clock = FakeClock()
    agent = PhoneAgent(device, model, clock=clock, sleep=clock.sleep, **kwargs)  # type: ignore[arg-type]
    return agent, device, model


def user_texts(request: list[dict]) -> list[str]:
    texts = []
    for message in request:
        if message["role"] != "user":
            continue
        content = message["content"]
        texts.append(content if isinstance(content, str) else content[0]["text"])
    return texts


def image_count(request: list[dict]) -> int:
    return sum(1 for m in request if isinstance(m["content"], list) for p in m["content"] if p["type"] == "image_url")


def test_search_task_runs_to_finish() -> None:
    agent, device, model = make_agent(
        [
            '<think>Open the shop.</think><answer>do(action="Launch", app="eBay")</answer>',
            '<think>Tap search.</think><answer>do(action="Tap", element=[500, 100])</answer>',
            '<answer>do(action="Type", text="earbuds")</answer>',
            '<answer>finish(message="Results for earbuds are shown.")</answer>',
        ]
    )
    result = agent.run("open eBay and search earbuds")
    assert result.status == "finished"
    assert result.message == "Results for earbuds are shown."
    assert device.calls == [("launch", "com.ebay.mobile", None), ("tap", 54, 24), ("type", "earbuds")]
    assert [type(s.action) for s in result.steps][:2] == [Launch, Tap]
    assert result.steps[1].points == [(54, 24)]
    assert result.steps[1].current_app == "eBay"


def test_first_turn_has_the_task_and_only_the_latest_turn_has_an_image() -> None:
    agent, _, model = make_agent(['do(action="Back")', 'do(action="Back")', 'finish(message="ok")'])
    agent.run("go back twice")
    first, last = model.requests[0], model.requests[-1]
    assert first[0]["role"] == "system"
    assert user_texts(first)[0].startswith("Task: go back twice")
    assert '"current_app": "Home screen"' in user_texts(first)[0]
    assert all("Task:" not in text for text in user_texts(last)[1:])
    assert image_count(last) == 1
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert last[2]["content"] == '<think></think><answer>do(action="Back")</answer>'


def test_malformed_reply_is_sent_back_to_the_model() -> None:
    agent, device, model = make_agent(['do(action="Tap", element=[5000, 1])', 'do(action="Back")', "finish()"])
    result = agent.run("t")
    assert result.status == "finished"
    retry_turn = model.requests[1][-1]
    assert retry_turn["role"] == "user" and "0 to 999" in retry_turn["content"]
    assert result.steps[0].parse_retries == 1
    assert device.calls == [("back",)]


def test_repeated_garbage_fails_the_run_and_shows_the_reply() -> None:
    agent, _, model = make_agent(["I don't know"] * 4)
    result = agent.run("t")
    assert result.status == "failed"
    assert "4 times in a row" in result.message and "I don't know" in result.message
    assert len(model.requests) == 4


def test_max_steps_stops_the_run() -> None:
    agent, device, _ = make_agent(['do(action="Back")'] * 3, settings=AgentSettings(max_steps=3))
    result = agent.run("t")
    assert result.status == "max_steps" and len(result.steps) == 3 and len(device.calls) == 3


def test_unknown_app_is_fed_back_with_suggestions() -> None:
    agent, device, model = make_agent(['do(action="Launch", app="Ebey")', "finish()"])
    agent.run("t")
    assert device.calls == []
    assert 'Unknown app "Ebey". Did you mean: eBay?' in user_texts(model.requests[1])[-1]


def test_app_that_is_not_installed_is_fed_back() -> None:
    agent, device, model = make_agent(['do(action="Launch", app="WeChat")', "finish()"])
    agent.run("t")
    assert device.calls == []
    assert "WeChat is not installed" in user_texts(model.requests[1])[-1]


def test_sensitive_tap_confirmed_and_declined() -> None:
    script = ['do(action="Tap", element=[500, 500], message="Pay $20")', "finish()"]
    handoff = ScriptedHandOff(confirm=True)
    agent, device, _ = make_agent(list(script), handoff=handoff)
    agent.run("buy")
    assert handoff.asked == [("confirm", "Pay $20")] and device.calls == [("tap", 54, 120)]

    agent, device, model = make_agent(list(script), handoff=ScriptedHandOff(confirm=False))
    agent.run("buy")
    assert device.calls == []
    assert "declined" in user_texts(model.requests[1])[-1]


def test_non_interactive_take_over_ends_with_needs_human() -> None:
    agent, _, model = make_agent(['do(action="Take_over", message="Please sign in")'])
    result = agent.run("buy")
    assert result.status == "needs_human" and result.message == "Please sign in"
    assert len(model.requests) == 1


def test_take_over_with_a_person_continues_with_a_fresh_screenshot() -> None:
    agent, device, model = make_agent(
        ['do(action="Take_over", message="Sign in")', "finish()"], handoff=ScriptedHandOff()
    )
    result = agent.run("buy")
    assert result.status == "finished"
    assert device.captures == 2
    assert "finished the manual step" in user_texts(model.requests[1])[-1]


def test_interact_feeds_the_answer_back() -> None:
    agent, _, model = make_agent(
        ['do(action="Interact", message="Which colour?")', "finish()"], handoff=ScriptedHandOff()
    )
    agent.run("buy")
    assert "The person answered: the blue one" in user_texts(model.requests[1])[-1]


def test_note_then_call_api_summarises_the_noted_pages() -> None:
    agent, device, model = make_agent(
        [
            'do(action="Note", message="prices")',
            'do(action="Call_API", instruction="What is the cheapest?")',
            "<answer>The cheapest is $9.</answer>",
            "finish()",
        ]
    )
    agent.run("compare")
    summary_request = model.requests[2]
    assert image_count(summary_request) == 1
    assert summary_request[1]["content"][0]["text"] == "What is the cheapest?"
    assert "Result of Call_API: The cheapest is $9." in user_texts(model.requests[3])[-1]
    assert device.captures == 1  # Note and Call_API do not change the screen


def test_wait_sleeps_through_the_injected_clock() -> None:
    device = FakeDevice()
    model = ScriptedModel(['do(action="Wait", duration="2 seconds")', "finish()"])
    clock = FakeClock()
    PhoneAgent(device, model, clock=clock, sleep=clock.sleep).run("t")
    assert 2.0 in clock.sleeps


def test_secure_screen_is_told_to_the_model() -> None:
    device = FakeDevice()
    device.secure = True
    agent, _, model = make_agent(["finish()"], device=device)
    agent.run("t")
    assert "protected" in user_texts(model.requests[0])[0]


def test_device_error_ends_the_run_as_failed_keeping_steps() -> None:
    class Broken(FakeDevice):
        def back(self) -> None:
            raise DeviceError("Lost contact with fake-1")

    agent, _, _ = make_agent(['do(action="Home")', 'do(action="Back")'], device=Broken())
    result = agent.run("t")
    assert result.status == "failed" and "Lost contact" in result.message
    assert len(result.steps) == 1 and isinstance(result.error, DeviceError)


def test_interrupt_stops_cleanly() -> None:
    class Interrupting(Listener):
        def step_started(self, index: int) -> None:
            if index == 2:
                raise KeyboardInterrupt

    agent, _, _ = make_agent(['do(action="Back")', 'do(action="Back")'], listeners=[Interrupting()])
    result = agent.run("t")
    assert result.status == "interrupted" and len(result.steps) == 1
    assert isinstance(result.steps[0].action, Back)


def test_listener_sees_every_step_and_streamed_text() -> None:
    seen: list[str] = []
    steps: list[StepResult] = []

    class Recorder(Listener):
        def model_text(self, piece: str) -> None:
            seen.append(piece)

        def step_finished(self, step: StepResult, screenshot: object) -> None:
            steps.append(step)

    agent, _, _ = make_agent(['do(action="Back")', 'finish(message="x")'], listeners=[Recorder()])
    agent.run("t")
    assert seen == ['do(action="Back")', 'finish(message="x")']
    assert [s.index for s in steps] == [1, 2]
    assert set(steps[0].timings) == {"capture", "model", "parse", "act", "settle"}


@pytest.mark.parametrize("lang, marker", [("en", "Android phone"), ("zh", "安卓手机")])
def test_system_prompt_language(lang: str, marker: str) -> None:
    agent, _, model = make_agent(["finish()"], settings=AgentSettings(lang=lang))  # type: ignore[arg-type]
    agent.run("t")
    assert marker in model.requests[0][0]["content"]


def test_an_app_missing_from_the_registry_is_shown_by_its_package() -> None:
    device = FakeDevice()
    device.foreground = "org.example.unlisted"
    agent, _, model = make_agent(["finish()"], device=device)
    agent.run("t")
    assert '"current_app": "org.example.unlisted"' in user_texts(model.requests[0])[0]


def test_the_persons_keyboard_comes_back_before_a_take_over_and_at_the_end() -> None:
    device = FakeDevice()
    agent, _, _ = make_agent(
        ['do(action="Take_over", message="log in")', "finish()"], device=device, handoff=ScriptedHandOff()
    )
    agent.run("t")
    assert device.releases == 2


def test_an_unexpected_error_still_closes_the_run_before_surfacing() -> None:
    class Exploding(FakeDevice):
        def back(self) -> None:
            raise RuntimeError("disk full")

    ended: list[str] = []

    class Ends(Listener):
        def run_finished(self, result: object) -> None:
            ended.append(result.status)  # type: ignore[attr-defined]

    agent, _, _ = make_agent(['do(action="Back")'], device=Exploding(), listeners=[Ends()])
    with pytest.raises(RuntimeError, match="disk full"):
        agent.run("t")
    assert ended == ["failed"]


def test_a_deadline_ends_the_run_between_steps() -> None:
    device = FakeDevice()
    clock = FakeClock()
    agent = PhoneAgent(
        device, ScriptedModel(['do(action="Wait", duration="5 seconds")'] * 5), clock=clock, sleep=clock.sleep
    )
    result = agent.run("t", deadline=12.0)
    assert result.status == "failed" and result.message == "Out of time after 3 steps."


def test_an_app_missing_from_the_registry_is_launched_by_its_installed_package() -> None:
    device = FakeDevice(packages=frozenset({"com.zettlr.app", "com.ebay.mobile"}))
    agent, _, model = make_agent(['do(action="Launch", app="Zettlr")', "finish()"], device=device)
    agent.run("open Zettlr")
    assert device.calls == [("launch", "com.zettlr.app", None)]
    assert "opened the installed package com.zettlr.app" in user_texts(model.requests[1])[-1]
