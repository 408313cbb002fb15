"""The catalogue of Android apps: display names, aliases, packages, and name resolution.

This package imports nothing from the rest of the project.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apps_registry.app import App, fold_name, package_named
    from apps_registry.errors import AmbiguousAppError, AppDataError, UnknownAppError
    from apps_registry.loader import parse_app_file, read_app_file
    from apps_registry.registry import Registry, default_registry

__all__ = [
    "App",
    "AmbiguousAppError",
    "AppDataError",
    "Registry",
    "UnknownAppError",
    "default_registry",
    "fold_name",
    "package_named",
    "parse_app_file",
    "read_app_file",
]
# Imported on first use: a command's error handling needs AppDataError long before (or without) the catalogue.
_HOMES = {
    "App": "apps_registry.app",
    "fold_name": "apps_registry.app",
    "package_named": "apps_registry.app",
    "AmbiguousAppError": "apps_registry.errors",
    "AppDataError": "apps_registry.errors",
    "UnknownAppError": "apps_registry.errors",
    "parse_app_file": "apps_registry.loader",
    "read_app_file": "apps_registry.loader",
    "Registry": "apps_registry.registry",
    "default_registry": "apps_registry.registry",
}


def __getattr__(name: str) -> Any:
    """One of the package's names, from the module that defines it."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
