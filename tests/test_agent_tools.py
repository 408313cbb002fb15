"""The loop in the tool-calling dialect: tools offered, one call per turn, valid OpenAI history, errors fed back."""

from __future__ import annotations

from typing import Any

from actions import Back, Launch, Tap, Type
from phone_agent.loop.agent import AgentSettings, PhoneAgent
from phone_agent.model.reply import Completion
from tests.support import FakeClock, FakeDevice, ScriptedHandOff, ScriptedModel, assert_valid_tool_history, calls

TOOLS = AgentSettings(dialect="tools")


def make_agent(replies: list[str | Completion], **kwargs: Any) -> tuple[PhoneAgent, FakeDevice, ScriptedModel]:
    device = kwargs.pop("device", None) or FakeDevice()
    model = ScriptedModel(replies)
    clock = FakeClock()
    settings = kwargs.pop("settings", TOOLS)
    agent = PhoneAgent(device, model, settings=settings, clock=clock, sleep=clock.sleep, **kwargs)
    return agent, device, model


def tool_names(tools: list[dict[str, Any]] | None) -> set[str]:
    assert tools is not None
    return {tool["function"]["name"] for tool in tools}


def test_search_task_by_tool_calls() -> None:
    agent, device, model = make_agent(
        [
            calls(("launch", '{"app": "eBay"}'), text="Open the shop."),
            calls(("tap", '{"element": [500, 100]}')),
            calls(("type_text", '{"text": "earbuds"}')),
            calls(("finish", '{"message": "Results for earbuds are shown."}')),
        ]
    )
    result = agent.run("open eBay and search earbuds")

    assert result.status == "finished" and result.message == "Results for earbuds are shown."
    assert device.calls == [("launch", "com.ebay.mobile", None), ("tap", 54, 24), ("type", "earbuds")]
    assert [type(step.action) for step in result.steps[:3]] == [Launch, Tap, Type]
    first = result.steps[0]
    assert first.thinking == "Open the shop." and first.answer == 'do(action="Launch", app="eBay")'
    assert first.reply == 'Open the shop.\n[tool call launch] {"app": "eBay"}'
    assert all("tap" in tool_names(tools) and "finish" in tool_names(tools) for tools in model.tools)


def test_history_answers_every_tool_call_before_the_next_screen() -> None:
    agent, _, model = make_agent(
        [calls(("back", "{}"), text="<think>Go back.</think>"), calls(("home", "")), calls(("finish", "{}"))]
    )
    agent.run("t")
    last = model.requests[-1]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "tool", "user", "assistant", "tool", "user"]
    assert_valid_tool_history(last)
    assert last[2] == {
        "role": "assistant",
        "content": "Go back.",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "back", "arguments": "{}"}}],
    }
    assert last[3] == {"role": "tool", "tool_call_id": "call_1", "content": "done"}
    assert last[5]["content"] is None  # a call without text
    assert "exactly one tool per turn" in last[0]["content"]


def test_feedback_is_the_tool_result_and_not_repeated_in_the_user_turn() -> None:
    agent, device, model = make_agent([calls(("launch", '{"app": "Ebey"}')), calls(("finish", "{}"))])
    agent.run("t")
    request = model.requests[1]
    assert device.calls == []
    assert 'Unknown app "Ebey". Did you mean: eBay?' in request[3]["content"]
    assert "Ebey" not in request[4]["content"][0]["text"]
    assert_valid_tool_history(request)


def test_several_tool_calls_are_refused_and_each_is_answered() -> None:
    agent, device, model = make_agent(
        [calls(("tap", '{"element": [1, 2]}'), ("back", "{}")), calls(("back", "{}")), calls(("finish", "{}"))]
    )
    result = agent.run("t")
    assert device.calls == [("back",)] and result.steps[0].parse_retries == 1
    retry = model.requests[1]
    assert retry[-3]["role"] == "assistant" and len(retry[-3]["tool_calls"]) == 2
    assert [m["role"] for m in retry[-2:]] == ["tool", "tool"]
    assert all("Call exactly one tool per turn" in m["content"] for m in retry[-2:])
    assert_valid_tool_history(retry)
    assert_valid_tool_history(model.requests[2])


def test_a_bad_call_gets_its_error_as_the_tool_result_then_the_model_retries() -> None:
    agent, device, model = make_agent(
        [calls(("tap", '{"element": [5000, 1')), calls(("tap", '{"element": [500, 500]}')), calls(("finish", "{}"))]
    )
    agent.run("t")
    retry = model.requests[1]
    assert retry[-1]["role"] == "tool" and "not valid JSON" in retry[-1]["content"]
    assert retry[-2]["tool_calls"][0]["function"]["arguments"] == "{}"  # not JSON: not sent back as it came
    assert device.calls == [("tap", 54, 120)]
    assert_valid_tool_history(model.requests[2])


def test_an_autoglm_answer_without_a_tool_call_is_accepted_and_recorded_as_the_call() -> None:
    text = '<think>back</think><answer>do(action="Back")</answer>'
    agent, device, model = make_agent([text, calls(("finish", "{}"))])
    result = agent.run("t")
    assert device.calls == [("back",)] and isinstance(result.steps[0].action, Back)
    request = model.requests[1]
    assert request[2]["tool_calls"][0]["function"] == {"name": "back", "arguments": "{}"}
    assert request[2]["content"] == "back"
    assert_valid_tool_history(request)


def test_a_reply_without_any_action_is_asked_to_call_a_tool() -> None:
    agent, _, model = make_agent(["I am looking at the screen.", calls(("finish", "{}"))])
    result = agent.run("t")
    assert result.status == "finished"
    retry = model.requests[1]
    assert retry[-2] == {"role": "assistant", "content": "I am looking at the screen."}
    assert retry[-1]["role"] == "user" and "called no tool" in retry[-1]["content"]


def test_repeated_bad_calls_fail_the_run_showing_the_calls() -> None:
    agent, _, model = make_agent([calls(("fly", "{}"))] * 4)
    result = agent.run("t")
    assert result.status == "failed" and "4 times in a row" in result.message
    assert "[tool call fly] {}" in result.message and 'There is no tool "fly"' in result.message
    assert len(model.requests) == 4


def test_take_over_result_goes_back_as_the_tool_answer() -> None:
    agent, _, model = make_agent(
        [calls(("take_over", '{"message": "Sign in"}')), calls(("finish", "{}"))], handoff=ScriptedHandOff()
    )
    assert agent.run("buy").status == "finished"
    assert "finished the manual step" in model.requests[1][3]["content"]


def test_the_autoglm_dialect_offers_no_tools() -> None:
    agent, _, model = make_agent(["finish()"], settings=AgentSettings())
    agent.run("t")
    assert model.tools == [None]
    assert "<answer>" in model.requests[0][0]["content"]


def test_chinese_tools_prompt() -> None:
    agent, _, model = make_agent([calls(("finish", "{}"))], settings=AgentSettings(lang="zh", dialect="tools"))
    agent.run("t")
    assert "每一轮只调用一个工具" in model.requests[0][0]["content"]
