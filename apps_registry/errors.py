"""Errors raised by the app catalogue.

LookupError
 ├── UnknownAppError   a name that matches no app; its text is meant for the model
 └── AmbiguousAppError a label several apps on the phone carry
ValueError
 └── AppDataError      a data file (shipped or the user's) that does not validate
"""

from __future__ import annotations

from collections.abc import Sequence


class AppDataError(ValueError):
    """An app data file is malformed; the message names the file and the entry."""


class UnknownAppError(LookupError):
    """No app matches a name; the message lists close matches for the model to retry with."""

    def __init__(self, name: str, suggestions: Sequence[str] = (), on_phone: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        self.on_phone = tuple(on_phone)  # labels of apps on the phone with a similar name
        super().__init__(self._message())

    def _message(self) -> str:
        """Build the text the model reads."""
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        phone = f" Apps on this phone with a similar name: {', '.join(self.on_phone)}." if self.on_phone else ""
        return f'Unknown app "{self.name}".{hint} Use one of the names the app list gives.{phone}'

    def __reduce__(self) -> tuple[type[UnknownAppError], tuple[str, tuple[str, ...], tuple[str, ...]]]:
        return (type(self), (self.name, self.suggestions, self.on_phone))


class AmbiguousAppError(LookupError):
    """Several apps on the phone carry the label a name gives; ``apps`` names each as "label (package)"."""

    def __init__(self, name: str, apps: Sequence[str]) -> None:
        self.name = name
        self.apps = tuple(apps)
        super().__init__(f'Several apps on this phone are named "{name}": {", ".join(self.apps)}.')

    def __reduce__(self) -> tuple[type[AmbiguousAppError], tuple[str, tuple[str, ...]]]:
        return (type(self), (self.name, self.apps))
