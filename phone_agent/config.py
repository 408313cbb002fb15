"""Settings from flags, ``PHONE_AGENT_*`` environment variables and an optional YAML file.

Precedence: flags, then the environment, then the file (``PHONE_AGENT_CONFIG``, or ``config.yaml``
in the user config directory), then defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, YamlConfigSettingsSource

from phone_agent.device.settle import SettleMode
from phone_agent.errors import ConfigError
from phone_agent.model.providers import PROVIDERS, key_hint, resolve_api_key


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """Where the optional config file lives."""
    explicit = env.get("PHONE_AGENT_CONFIG")
    return Path(explicit) if explicit else Path(platformdirs.user_config_dir("phone-agent")) / "config.yaml"


class Settings(BaseSettings):
    """Everything a run can be configured with. Unset flags are simply not passed in."""

    model_config = SettingsConfigDict(env_prefix="PHONE_AGENT_", extra="forbid")

    provider: str | None = None
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    device: str | None = None
    adb_host: str = "127.0.0.1"
    adb_port: int = Field(default_factory=lambda: int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")))
    lang: Literal["en", "zh"] = "en"
    max_steps: int = Field(default=50, ge=1)
    apps_files: list[Path] = Field(default_factory=list)
    stream: bool = True
    timeout: float = Field(default=60.0, gt=0)
    settle: str = "auto"
    image_format: Literal["png", "jpeg", "webp"] = "png"
    image_max_side: int | None = Field(default=None, ge=64)
    stuck_guard: bool = True
    stuck_limit: int = Field(default=3, ge=2)
    dialect: Literal["autoglm", "tools"] = "autoglm"
    channel: Literal["auto", "scrcpy", "adb"] = "auto"
    scrcpy_server: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, e.g. http://localhost:8000/v1 (got {value!r})")
        return value

    @field_validator("settle")
    @classmethod
    def _settle_mode(cls, value: str) -> str:
        return str(SettleMode.parse(value))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls, yaml_file=config_path())


def load_settings(**flags: Any) -> Settings:
    """Build settings, flags first; ``None`` flags are treated as not given.

    Raises:
        ConfigError: a value in the environment or the config file is invalid.
    """
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise ConfigError(
            f"Invalid settings ({problems}). Check the flags, PHONE_AGENT_* variables and {config_path()}."
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the config file {config_path()}: {exc}") from exc


@dataclass(frozen=True)
class Endpoint:
    """The model endpoint a run talks to. ``repr`` never shows the key."""

    provider: str
    base_url: str
    model: str
    api_key: SecretStr | None
    api_key_env: tuple[str, ...]

    @property
    def public_url(self) -> str:
        """The base URL without user info or query, which can hold credentials: for logs and traces."""
        parts = urlsplit(self.base_url)
        return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


def resolve_endpoint(settings: Settings, env: Mapping[str, str] = os.environ) -> Endpoint:
    """Combine the provider preset with explicit overrides and find the API key.

    Raises:
        ConfigError: unknown provider, or a hosted provider without a key.
    """
    name = settings.provider or ("custom" if settings.base_url else "zai")
    preset = PROVIDERS.get(name)
    if preset is None and name != "custom":
        raise ConfigError(f"Unknown provider {name!r}. Use one of: {', '.join(PROVIDERS)}, or give --base-url.")
    base_url = settings.base_url or (preset.base_url if preset else "")
    model = settings.model or (preset.model if preset else "autoglm-phone-9b-multilingual")
    explicit = settings.api_key.get_secret_value() if settings.api_key else None
    key = resolve_api_key(preset, explicit, env)
    key_env = preset.api_key_env if preset else ()
    if key is None and key_env and not settings.base_url:
        raise ConfigError(f"No API key for {name}. Give one with {key_hint(key_env)}.")
    return Endpoint(name, base_url.rstrip("/"), model, SecretStr(key) if key else None, key_env)
