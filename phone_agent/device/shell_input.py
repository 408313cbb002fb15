"""Touches and keys as Android ``input`` shell commands; a refusal by the phone is an error that says what to do."""

from __future__ import annotations

from collections.abc import Callable

from actions.device import ShellResult
from phone_agent.errors import DeviceError

_INPUT_ADVICE = (
    "Android refused the input. On Xiaomi/MIUI turn on Developer options > 'USB debugging (Security settings)'; "
    "on OPPO/OnePlus 'Disable permission monitoring'; on vivo 'USB simulated click'. `phone-agent doctor` checks it."
)


class ShellInput:
    """Sends one phone's touches and key events through ``run_shell``."""

    def __init__(self, serial: str, run_shell: Callable[[str], ShellResult]) -> None:
        self._serial = serial
        self._run_shell = run_shell

    def tap(self, x: int, y: int) -> None:
        self._input(f"input tap {int(x)} {int(y)}")

    def double_tap(self, x: int, y: int) -> None:
        # Both taps in one shell: two round trips can miss Android's 300 ms double-tap window.
        self._input(f"input tap {int(x)} {int(y)} && input tap {int(x)} {int(y)}")

    def long_press(self, x: int, y: int, duration_ms: int) -> None:
        self._input(f"input swipe {int(x)} {int(y)} {int(x)} {int(y)} {int(duration_ms)}")

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        self._input(f"input swipe {int(x1)} {int(y1)} {int(x2)} {int(y2)} {int(duration_ms)}")

    def press_key(self, keycode: int) -> None:
        self._input(f"input keyevent {int(keycode)}")

    def _input(self, command: str) -> None:
        """Run an ``input`` command; a refusal (e.g. INJECT_EVENTS denied by a vendor ROM) is an error.

        Raises:
            DeviceError: the phone refused the input.
        """
        result = self._run_shell(command)
        if result.exit_code not in (0, None):
            detail = result.output.strip().splitlines()[-1] if result.output.strip() else "no output"
            raise DeviceError(
                f"`{command}` failed on {self._serial} (exit {result.exit_code}: {detail}). {_INPUT_ADVICE}"
            )
