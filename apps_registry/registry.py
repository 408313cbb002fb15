"""The `Registry`: all known apps, with name resolution and reverse lookup by package."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path

from apps_registry.app import App, fold_name
from apps_registry.errors import AppDataError, UnknownAppError
from apps_registry.loader import read_app_file, shipped_app_files

_MAX_SUGGESTIONS = 3
_SUGGESTION_CUTOFF = 0.6


class Registry:
    """A validated set of apps in which every name, alias and package belongs to exactly one app."""

    def __init__(self, apps: Iterable[App] = (), *, source: str = "<code>") -> None:
        """Build from `apps`; `source` names their origin in errors.

        Raises:
            AppDataError: two apps share a folded name or alias, or a package.
        """
        self._apps: dict[str, App] = {}  # folded display name -> app
        self._sources: dict[str, str] = {}  # folded display name -> file it came from
        self._keys: dict[str, str] = {}  # folded name or alias -> folded display name of its app
        self._packages: dict[str, str] = {}  # main or alternate package -> folded display name
        for app in apps:
            self._add(app, source)

    @classmethod
    def load(cls, extra_files: Sequence[Path] = ()) -> Registry:
        """Load the shipped data files, then the user's `extra_files` in order.

        A user file may add apps, and may override a shipped app by giving an entry with the same
        name (compared after folding): the user's entry replaces the shipped one as a whole, aliases
        included. Any other clash of names, aliases or packages is an error.

        Raises:
            AppDataError: a file is unreadable or invalid, or its entries clash; the message names it.
        """
        registry = cls()
        for source, apps in shipped_app_files():
            for app in apps:
                registry._add(app, source)
        overridable = set(registry._apps)
        for path in extra_files:
            for app in read_app_file(path):
                key = fold_name(app.name)
                registry._add(app, str(path), replace=key in overridable)
                overridable.discard(key)
        return registry

    @property
    def apps(self) -> list[App]:
        """All apps, sorted by display name (case-insensitively)."""
        return sorted(self._apps.values(), key=lambda app: (app.name.casefold(), app.name))

    def __len__(self) -> int:
        return len(self._apps)

    def __iter__(self) -> Iterator[App]:
        return iter(self.apps)

    def resolve(self, name: str) -> App:
        """Find the app a name means: exact name, exact alias, folded name or alias, then package.

        Raises:
            UnknownAppError: nothing matches; it carries close matches to offer the model.
        """
        for app in self._apps.values():
            if app.name == name:
                return app
        for app in self._apps.values():
            if name in app.aliases:
                return app
        owner = self._keys.get(fold_name(name))
        if owner is not None:
            return self._apps[owner]
        found = self.by_package(name.strip())
        if found is not None:
            return found
        raise UnknownAppError(name, self.suggest(name))

    def by_package(self, package: str) -> App | None:
        """The app whose main or alternate package is `package`, or None."""
        owner = self._packages.get(package)
        return None if owner is None else self._apps[owner]

    def name_of(self, package: str) -> str:
        """The display name of the app owning `package`, or the package itself."""
        app = self.by_package(package)
        return app.name if app else package

    def suggest(self, name: str) -> list[str]:
        """Display names of apps whose name or an alias is close to `name`, best first."""
        matches = difflib.get_close_matches(
            fold_name(name), list(self._keys), n=len(self._keys), cutoff=_SUGGESTION_CUTOFF
        )
        suggestions: list[str] = []
        for key in matches:
            display = self._apps[self._keys[key]].name
            if display not in suggestions:
                suggestions.append(display)
        return suggestions[:_MAX_SUGGESTIONS]

    def _add(self, app: App, source: str, *, replace: bool = False) -> None:
        """Index `app`; with `replace`, first drop the app of the same name.

        Raises:
            AppDataError: a name, alias or package of `app` already belongs to another app.
        """
        owner = fold_name(app.name)
        if replace:
            self._remove(owner)
        elif owner in self._apps:
            self._conflict(app, source, f'name "{app.name}"', owner)
        for label in app.names:
            taken_by = self._keys.get(fold_name(label))
            if taken_by is not None and taken_by != owner:
                self._conflict(app, source, f'alias "{label}"', taken_by)
        for package in app.packages:
            taken_by = self._packages.get(package)
            if taken_by is not None:
                self._conflict(app, source, f'package "{package}"', taken_by)
        self._apps[owner] = app
        self._sources[owner] = source
        self._keys.update((fold_name(label), owner) for label in app.names)
        self._packages.update((package, owner) for package in app.packages)

    def _remove(self, owner: str) -> None:
        """Drop the app stored under the folded display name `owner` from every index."""
        app = self._apps.pop(owner)
        del self._sources[owner]
        for label in app.names:
            self._keys.pop(fold_name(label), None)
        for package in app.packages:
            self._packages.pop(package, None)

    def _conflict(self, app: App, source: str, what: str, other: str) -> None:
        """Raise an error saying which entry clashes with which.

        Raises:
            AppDataError: always.
        """
        previous = self._apps[other]
        raise AppDataError(
            f'{source}: entry "{app.name}": {what} is already used by "{previous.name}"'
            f" from {self._sources[other]}; names, aliases and packages must be unique"
            " (a user file replaces a shipped app by giving an entry with the same name)"
        )


@cache
def default_registry() -> Registry:
    """The registry of the shipped data files only, loaded once."""
    return Registry.load()
