"""MCP and the person: ``run_task``'s hand-offs as elicitations, and the phone's own apps in list_apps and launch.

A real ``phone-agent mcp`` subprocess spoken to by the mcp SDK's stdio client, whose elicitation callback
plays the person; the virtual phone behind a real adb server; the replay model server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext, ElicitationFnT
from mcp_types import INVALID_REQUEST, ElicitRequestFormParams, ElicitRequestParams, ElicitResult, ErrorData

from phone_agent.device.adb import AdbDevice
from phone_agent.mcp_handoff import ElicitingHandOff, M
from phone_agent.mcp_server import CANCELLED
from phone_agent.sim.model_server import ReplayModelServer, ReplayScript
from phone_agent.sim.testing import AdbServer, PhoneSession
from phone_agent.trace import read_trace
from tests.test_adb_device import centre
from tests.test_app_labels import ATX, app_lists, install
from tests.test_end_to_end import last_text, open_item
from tests.test_mcp import ok, server_args, server_env, talk, text

SIGN_IN = 'do(action="Take_over", message="Please sign in to eBay")'
Person = Callable[[ElicitRequestFormParams], ElicitResult | ErrorData]


def pay(phone: PhoneSession) -> str:
    x, y = centre(phone, "com.ebay.mobile:id/confirm_and_pay")
    return f'do(action="Tap", element=[{x * 1000 // 1080}, {y * 1000 // 2400}], message="Pay for the earbuds")'


def at_checkout(adb: AdbServer, phone: PhoneSession, signed_in: bool) -> None:
    phone.phone.set_signed_in(signed_in)
    with AdbDevice.connect(phone.phone.serial, port=adb.port) as device:
        open_item(phone, device)


def answered(person: Person, asked: list[ElicitRequestFormParams]) -> ElicitationFnT:
    async def elicitation(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult | ErrorData:
        assert isinstance(params, ElicitRequestFormParams)
        asked.append(params)
        return person(params)

    return elicitation


def run_task(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, replies: list[str], elicitation: ElicitationFnT | None,
    mode: str = "legacy",
) -> tuple[dict[str, Any], ReplayModelServer]:
    """Run a task over MCP with the client's elicitation callback (None: the client declares no elicitation)."""
    script = ReplayScript.model_validate({"replies": replies})
    with ReplayModelServer(script) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)

        async def main() -> str:
            params = StdioServerParameters(command=sys.executable, args=args, env=server_env(tmp_path))
            async with Client(params, read_timeout_seconds=120, elicitation_callback=elicitation, mode=mode) as client:
                return text(ok(await client.call_tool("run_task", {"task": "buy the first earbuds"})))

        return json.loads(asyncio.run(main())), model


def field(params: ElicitRequestFormParams) -> str:
    (name,) = params.requested_schema["properties"]
    return name


def test_the_person_answers_the_agents_question_and_allows_the_payment(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    at_checkout(adb, phone, signed_in=True)
    answers: dict[str, str | bool] = {"answer": "white", "allow": True}
    asked: list[ElicitRequestFormParams] = []
    person = answered(lambda params: ElicitResult(action="accept", content={field(params): answers[field(params)]}),
                      asked)
    replies = ['do(action="Interact", message="Black or white earbuds?")', pay(phone), 'finish(message="paid")']
    outcome, model = run_task(adb, phone, tmp_path, replies, person)
    assert outcome["status"] == "finished"
    assert [field(params) for params in asked] == ["answer", "allow"]
    assert "Black or white earbuds?" in asked[0].message and "Pay for the earbuds" in asked[1].message
    assert "The person answered: white" in last_text(model.requests[1])
    assert len(phone.phone.state()["shop"]["purchased"]) == 1


@pytest.mark.parametrize(
    "answer",
    [ElicitResult(action="accept", content={"allow": False}), ElicitResult(action="decline"),
     ElicitResult(action="cancel"), ElicitResult(action="accept", content={"allow": "maybe"}),
     ErrorData(code=INVALID_REQUEST, message="The form could not be shown.")],
    ids=["no", "decline", "cancel", "not-a-yes", "client-error"],
)
def test_a_payment_the_person_does_not_allow_is_not_made(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, answer: ElicitResult | ErrorData
) -> None:
    at_checkout(adb, phone, signed_in=True)
    asked: list[ElicitRequestFormParams] = []
    outcome, model = run_task(adb, phone, tmp_path, [pay(phone), 'finish(message="not paid")'],
                              answered(lambda params: answer, asked))
    assert outcome["status"] == "finished" and len(asked) == 1
    assert phone.phone.state()["shop"]["purchased"] == []
    assert "declined" in last_text(model.requests[1])


@pytest.mark.parametrize(("choice", "status"), [("done", "finished"), ("stop", "needs_human")])
def test_the_person_signs_in_on_the_phone_then_hands_it_back_or_stops(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, choice: str, status: str
) -> None:
    at_checkout(adb, phone, signed_in=False)
    asked: list[ElicitRequestFormParams] = []

    def person(params: ElicitRequestFormParams) -> ElicitResult:
        phone.phone.set_signed_in(True)  # done on the phone while the client shows the form
        return ElicitResult(action="accept", content={"next": choice})

    outcome, _model = run_task(adb, phone, tmp_path, [SIGN_IN, 'finish(message="at checkout")'],
                               answered(person, asked))
    assert outcome["status"] == status and len(asked) == 1
    assert "Please sign in to eBay" in asked[0].message
    assert asked[0].requested_schema["properties"]["next"]["enum"] == ["done", "stop"]
    assert len(outcome["steps"]) == (2 if choice == "done" else 1)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
def test_without_elicitation_mid_call_a_needed_person_ends_the_task(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, mode: str
) -> None:
    at_checkout(adb, phone, signed_in=False)
    asked: list[ElicitRequestFormParams] = []
    # legacy: the client declares no elicitation; auto: the 2026 protocol, which has no requests from the server.
    person = answered(lambda params: ElicitResult(action="accept", content={"next": "done"}), asked)
    outcome, _model = run_task(adb, phone, tmp_path, [SIGN_IN], None if mode == "legacy" else person, mode)
    assert outcome["status"] == "needs_human" and outcome["message"] == "Please sign in to eBay"
    assert asked == []


def test_cancelling_run_task_while_the_person_is_asked_ends_the_run_at_once(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path
) -> None:
    at_checkout(adb, phone, signed_in=False)
    script = ReplayScript.model_validate({"replies": [SIGN_IN, 'finish(message="never")']})
    with ReplayModelServer(script) as model:
        args = server_args(adb, phone, tmp_path, "--base-url", model.base_url, "--model", script.model)

        async def main() -> str:
            asking = asyncio.Event()
            never = asyncio.Event()

            async def elicitation(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
                asking.set()
                await never.wait()  # the person never answers
                return ElicitResult(action="accept", content={"next": "done"})

            params = StdioServerParameters(command=sys.executable, args=args, env=server_env(tmp_path))
            async with Client(params, read_timeout_seconds=120, elicitation_callback=elicitation,
                              mode="legacy") as client:
                task = asyncio.create_task(client.call_tool("run_task", {"task": "buy the first earbuds"}))
                await asyncio.wait_for(asking.wait(), 60)
                task.cancel()  # the client sends notifications/cancelled
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                # The run has ended: the next call is answered although the form was never filled in.
                app = text(ok(await client.call_tool("current_app", read_timeout_seconds=30)))
                never.set()
                return app

        assert asyncio.run(main()).endswith("(com.ebay.mobile)")
    assert len(model.requests) == 1
    (run_dir,) = (tmp_path / "runs").iterdir()
    trace = read_trace(run_dir)
    assert trace[-1]["status"] == "interrupted" and trace[-1]["message"] == CANCELLED


class Forms:
    """The person's form answers in order; None for a declined form."""

    def __init__(self, *answers: dict[str, Any] | None) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, message: str, schema: type[M]) -> M | None:
        self.asked.append(schema.__name__)
        answer = self.answers.pop(0)
        return None if answer is None else schema.model_validate(answer)


@pytest.mark.parametrize(
    ("answers", "response", "asked"),
    [
        (({"choice": "continue"},), "continue", ["StuckChoice"]),
        (({"choice": "take_over"}, {"next": "done"}), "take_over", ["StuckChoice", "Handback"]),
        (({"choice": "take_over"}, None), "stop", ["StuckChoice", "Handback"]),
        ((None,), "stop", ["StuckChoice"]),
    ],
)
def test_stuck_offers_continue_take_over_or_stop_and_no_answer_stops(
    answers: tuple[dict[str, Any] | None, ...], response: str, asked: list[str]
) -> None:
    forms = Forms(*answers)
    assert ElicitingHandOff(forms).stuck("Tapped the same button 4 times.") == response
    assert forms.asked == asked


def test_a_blank_or_declined_answer_is_no_answer() -> None:
    handoff = ElicitingHandOff(Forms({"answer": "  "}, None, {"answer": " white "}))
    assert [handoff.ask("Which colour?") for _ in range(3)] == [None, None, "white"]


def test_list_apps_adds_the_phones_other_apps_with_labels_and_launch_takes_a_label(
    adb: AdbServer, phone: PhoneSession, tmp_path: Path, scrcpy_server_jar: Path
) -> None:
    install(adb, phone, tmp_path, ATX, "ATX")

    async def conversation(client: Client) -> tuple[str, str]:
        listed = text(ok(await client.call_tool("list_apps")))
        return listed, text(ok(await client.call_tool("launch", {"app": "atx"})))

    args = server_args(adb, phone, tmp_path, "--channel", "adb", "--scrcpy-server", str(scrcpy_server_jar))
    listed, launched = talk(args, tmp_path, conversation)
    lines = listed.splitlines()
    assert any(line.startswith("eBay") and line.endswith(": com.ebay.mobile") for line in lines)
    others = lines[lines.index("Other apps on this phone (launch them by label or package):") + 1:]
    assert f"ATX: {ATX}" in others and not any(line.endswith(": com.ebay.mobile") for line in others)
    assert launched == f"ATX ({ATX}) is in front."
    assert phone.phone.ui.foreground()[0] == ATX
    assert len(app_lists(phone)) == 1  # listed once for the server's device
