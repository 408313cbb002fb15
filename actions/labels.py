"""Finding an app the catalogue does not know among the phone's launchable apps: by label, package, or package part.

Labels are compared loosely, as a person types them: case, spaces, punctuation, accents and full-width
forms do not count ("cafe notes" finds "Café Notes").
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from actions.device import LaunchableApp
from apps_registry import fold_name, package_named

_MAX_SIMILAR = 3
_SIMILAR_CUTOFF = 0.6


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
