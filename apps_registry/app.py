"""The `App` model: one catalogue entry, and the name folding used to match it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

_PACKAGE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
_ACTIVITY = re.compile(r"\.?[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)*")
_CATEGORY = re.compile(r"[a-z][a-z0-9_]*")


def fold_name(text: str) -> str:
    """Fold a name for loose matching: NFKC (full-width to half-width), casefold, letters and digits only."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in normalized if unicodedata.category(ch)[0] in "LN")


def package_named(name: str, installed: Collection[str]) -> str | None:
    """The one installed package with a part named like ``name`` ("Joplin" → ``net.cozic.joplin``), or None.

    A fallback for apps missing from the catalogue; several matches are too ambiguous to guess.
    """
    wanted = fold_name(name)
    if len(wanted) < 3:
        return None
    matches = [package for package in installed if wanted in (fold_name(part) for part in package.split("."))]
    return matches[0] if len(matches) == 1 else None


def _check_package(value: str) -> str:
    """Accept a Java-style package name such as `com.example.app`."""
    if not _PACKAGE.fullmatch(value):
        raise ValueError(f"{value!r} is not an Android package name like 'com.example.app'")
    return value


def _check_label(value: str) -> str:
    """Accept a display name or alias that has at least one letter or digit."""
    value = value.strip()
    if not fold_name(value):
        raise ValueError(f"{value!r} needs at least one letter or digit")
    return value


PackageName = Annotated[str, AfterValidator(_check_package)]
Label = Annotated[str, AfterValidator(_check_label)]


class App(BaseModel):
    """One installable app: its display name, other names, package(s), launch activity and category."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Label
    aliases: tuple[Label, ...] = ()
    package: PackageName
    alt_packages: tuple[PackageName, ...] = Field(
        default=(), description="The same app's package on other vendors' or AOSP builds."
    )
    activity: str | None = None
    category: str = "other"

    @field_validator("activity")
    @classmethod
    def _check_activity(cls, value: str | None) -> str | None:
        """Accept `.Main` (relative to the package) or a fully qualified class name."""
        if value is not None and not _ACTIVITY.fullmatch(value):
            raise ValueError(f"{value!r} is not an activity class name like '.MainActivity'")
        return value

    @field_validator("category")
    @classmethod
    def _check_category(cls, value: str) -> str:
        """Accept a lower-case word such as `shopping`."""
        if not _CATEGORY.fullmatch(value):
            raise ValueError(f"{value!r} is not a lower-case category word like 'shopping'")
        return value

    @model_validator(mode="after")
    def _check_packages_distinct(self) -> App:
        """Reject an alternate package that repeats the main one or another alternate."""
        if len(set(self.packages)) != len(self.packages):
            raise ValueError(f"alt_packages of {self.name!r} repeat a package: {list(self.packages)}")
        return self

    @property
    def packages(self) -> tuple[str, ...]:
        """The main package followed by the alternates, in order of preference."""
        return (self.package, *self.alt_packages)

    def installed_package(self, installed: Collection[str]) -> str | None:
        """The preferred package that is installed; the main one when the list is unknown (empty)."""
        if not installed:
            return self.package
        return next((package for package in self.packages if package in installed), None)

    @property
    def names(self) -> tuple[str, ...]:
        """The display name followed by the aliases."""
        return (self.name, *self.aliases)
