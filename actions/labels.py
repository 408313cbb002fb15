"""What an app name means: an app of the catalogue, else one of the phone's launchable apps (label, package, part).

Launching and the app allowlist both resolve names here. Labels are compared loosely, as a person types
them: case, spaces, punctuation, accents and full-width forms do not count ("cafe notes" finds "Café Notes").
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Sequence

from actions.device import LaunchableApp
from apps_registry import AmbiguousAppError, App, Registry, UnknownAppError, fold_name, package_named

_MAX_SIMILAR = 3
_SIMILAR_CUTOFF = 0.6


def resolve_app(name: str, registry: Registry, phone_apps: Callable[[], Sequence[LaunchableApp]]) -> App:
    """The app ``name`` means: by name or alias in the catalogue, else the one app on the phone it names.

    An app found on the phone is the catalogue's app where the catalogue knows its package ("Einstellungen"
    on a German phone is Settings), else an app named by its label. ``phone_apps`` is asked only when the
    catalogue does not know the name.

    Raises:
        UnknownAppError: no app has that name; it carries the catalogue's close names and the phone's.
        AmbiguousAppError: several apps on the phone carry that label.
    """
    try:
        return registry.resolve(name)
    except UnknownAppError as exc:
        unknown = exc
    apps = phone_apps()
    found = find_apps(name, apps)
    if len(found) > 1:
        raise AmbiguousAppError(name, [f"{app.label} ({app.package})" for app in found])
    if not found:
        raise UnknownAppError(unknown.name, unknown.suggestions, similar_labels(name, apps))
    (app,) = found
    return registry.by_package(app.package) or App(
        name=app.label if fold_name(app.label) else app.package, package=app.package
    )


def fold_label(text: str) -> str:
    """A label folded for loose matching: accents dropped, then :func:`apps_registry.fold_name`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return fold_name("".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def find_apps(name: str, apps: Sequence[LaunchableApp]) -> list[LaunchableApp]:
    """The apps ``name`` means: the one with that package, else those labelled so, else the one package named so.

    Several apps are returned only when several carry the same label.
    """
    wanted = name.strip()
    by_package = [app for app in apps if app.package == wanted]
    if by_package:
        return by_package[:1]
    folded = fold_label(wanted)
    labelled = [app for app in apps if folded and fold_label(app.label) == folded]
    if labelled:
        return labelled
    guess = package_named(wanted, {app.package for app in apps})
    return [app for app in apps if app.package == guess][:1]


def similar_labels(name: str, apps: Sequence[LaunchableApp]) -> list[str]:
    """Labels close to ``name``, best first: those that contain it, then those spelled alike."""
    folded = fold_label(name)
    labels = {fold_label(app.label): app.label for app in apps if fold_label(app.label)}
    containing = [key for key in labels if folded and folded in key]
    alike = difflib.get_close_matches(folded, list(labels), n=_MAX_SIMILAR, cutoff=_SIMILAR_CUTOFF)
    ordered = list(dict.fromkeys([*containing, *alike]))
    return [labels[key] for key in ordered[:_MAX_SIMILAR]]
