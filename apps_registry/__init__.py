"""The catalogue of Android apps: display names, aliases, packages, and name resolution.

This package imports nothing from the rest of the project.
"""

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
