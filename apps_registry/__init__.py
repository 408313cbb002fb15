"""The catalogue of Android apps: display names, aliases, packages, and name resolution.

This package imports nothing from the rest of the project.
"""

from apps_registry.app import App, fold_name
from apps_registry.errors import AppDataError, UnknownAppError
from apps_registry.loader import parse_app_file, read_app_file
from apps_registry.registry import Registry, default_registry

__all__ = [
    "App",
    "AppDataError",
    "Registry",
    "UnknownAppError",
    "default_registry",
    "fold_name",
    "parse_app_file",
    "read_app_file",
]
