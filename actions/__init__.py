"""The action vocabulary: typed actions, the AutoGLM grammar, the tool-calling dialect, coordinates and execution."""

from actions.coords import to_grid, to_pixels
from actions.device import Device, LaunchableApp, Screenshot, ShellResult, SuiteDevice
from actions.execute import Context, Environment, NoteEntry, Outcome, execute
from actions.grammar import ActionParseError, ParsedReply, format_action, parse_action, parse_reply
from actions.models import (
    Action,
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
)
from actions.tools import parse_tool_call, tool_call_for, tool_definitions, tool_name

__all__ = [
    "Action", "ActionParseError", "Back", "CallAPI", "Context", "Device", "DoubleTap", "Environment",
    "Finish", "Home", "Interact", "Launch", "LaunchableApp", "LongPress", "Note", "NoteEntry", "Outcome", "ParsedReply",
    "Screenshot", "ShellResult", "SuiteDevice", "Swipe", "Tap", "TakeOver", "Type", "TypeName", "Wait", "execute",
    "format_action", "parse_action", "parse_reply", "parse_tool_call", "to_grid", "to_pixels", "tool_call_for",
    "tool_definitions", "tool_name",
]
