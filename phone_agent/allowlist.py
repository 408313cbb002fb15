"""The app allowlist: which apps a run may launch, and which packages may be in front during it.

Names resolve through the apps registry, so aliases and Chinese names work. Besides the listed
apps, what Android itself puts in front while any app is used stays allowed: system dialogs, the
status bar and lock screen, permission and install prompts, the home app and the keyboard (those
two differ by vendor and are asked of the phone once per run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from actions import Action, Device, Launch, LaunchableApp
from actions.labels import resolve_app
from apps_registry import AmbiguousAppError, App, Registry, UnknownAppError
from phone_agent.device.app_control import LAUNCH_DIALOGS
from phone_agent.device.text_input import ADB_KEYBOARD
from phone_agent.errors import ConfigError

# "android" hosts system dialogs (app chooser, "not responding"); MIUI asks for permissions in its own app.
# Android 14+ moved the share and "open with" chooser to intentresolver; the file and photo pickers and
# Google sign-in (account picker, SMS consent) are screens of their own packages too.
SYSTEM_PACKAGES = frozenset(
    {
        "android",
        "com.android.systemui",
        "com.lbe.security.miui",
        "com.android.intentresolver",
        "com.android.documentsui",
        "com.google.android.documentsui",
        "com.google.android.providers.media.module",
        "com.google.android.gms",
        ADB_KEYBOARD.split("/")[0],
        *LAUNCH_DIALOGS,
    }
)

PhoneApps = Callable[[], Sequence[LaunchableApp]]  # the phone's launchable apps, asked for only when needed


@dataclass(frozen=True)
class AllowList:
    """The apps a run is limited to."""

    apps: tuple[App, ...]

    @classmethod
    def resolve(cls, names: Iterable[str], registry: Registry, phone_apps: PhoneApps) -> AllowList:
        """Look every name up in the registry, else among the phone's launchable apps (label or package).

        Raises:
            ConfigError: a name matches no app (the message offers close matches) or several apps on the
                phone, or no name is given.
        """
        apps: list[App] = []
        for name in names:
            app = _app_named(name, registry, phone_apps)
            if app not in apps:
                apps.append(app)
        if not apps:
            raise ConfigError("The app allowlist (--allow-apps) names no app. Give names like \"eBay,Settings\".")
        return cls(tuple(apps))

    @property
    def names(self) -> str:
        """The allowed apps' names, for messages."""
        return ", ".join(app.name for app in self.apps)

    def allows_package(self, package: str) -> bool:
        """True for a package of an allowed app or of the system itself (the home app and keyboard aside)."""
        return package in SYSTEM_PACKAGES or any(package in app.packages for app in self.apps)

    def refusal(self, action: Action, registry: Registry, phone_apps: PhoneApps) -> str | None:
        """Why the action is refused, for the model: a Launch of an app not allowed; None for any other action."""
        if not isinstance(action, Launch) or self._allows_name(action.app, registry, phone_apps):
            return None
        return (
            f'Launch "{action.app}" was refused: this task may only use {self.names}. Do not try to open other '
            "apps; continue in an allowed app, or finish and say that the task needs another app."
        )

    def _allows_name(self, name: str, registry: Registry, phone_apps: PhoneApps) -> bool:
        """Whether ``name`` means an allowed app (the catalogue's name, or the label the phone shows)."""
        try:
            app = resolve_app(name, registry, phone_apps)
        except (UnknownAppError, AmbiguousAppError):
            return False
        return any(package in allowed.packages for allowed in self.apps for package in app.packages)


def _app_named(name: str, registry: Registry, phone_apps: PhoneApps) -> App:
    """The app ``name`` means, for the allowlist.

    Raises:
        ConfigError: no app, or several apps on the phone, carry that name.
    """
    try:
        return resolve_app(name, registry, phone_apps)
    except AmbiguousAppError as exc:
        raise ConfigError(f"{exc} Give the package of the one you mean in the app allowlist (--allow-apps).") from None
    except UnknownAppError as exc:
        close = list(dict.fromkeys([*exc.suggestions, *exc.on_phone]))
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ConfigError(
            f'Unknown app "{name}" in the app allowlist (--allow-apps): neither the app list nor the phone knows it.'
            f"{hint} `phone-agent apps` lists the names; add a missing app with --apps-file."
        ) from None


@dataclass
class FrontApps:
    """One run's check of the app in front; the phone's home app and keyboard are asked once, when first needed."""

    allowed: AllowList
    device: Device
    _phone_apps: frozenset[str] | None = None

    def is_foreign(self, package: str) -> bool:
        """True when ``package`` belongs neither to the allowlist nor to the phone itself."""
        if not package or self.allowed.allows_package(package):
            return False
        if self._phone_apps is None:  # launchers and keyboards differ by vendor: ask the phone, only when needed
            self._phone_apps = self.device.home_and_keyboard()
        return package not in self._phone_apps
