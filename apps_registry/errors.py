"""Errors raised by the app catalogue.

LookupError
 └── UnknownAppError   a name that matches no app; its text is meant for the model
ValueError
 └── AppDataError      a data file (shipped or the user's) that does not validate
"""

from __future__ import annotations

from collections.abc import Sequence


class AppDataError(ValueError):
    """An app data file is malformed; the message names the file and the entry."""


class UnknownAppError(LookupError):
    """No app matches a name; the message lists close matches for the model to retry with."""

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        super().__init__(self._message())

    def _message(self) -> str:
        """Build the text the model reads."""
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f'Unknown app "{self.name}".{hint} Use one of the names the app list gives.'

    def __reduce__(self) -> tuple[type[UnknownAppError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.name, self.suggestions))
