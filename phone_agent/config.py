"""Settings from flags, ``PHONE_AGENT_*`` environment variables and an optional YAML file.

Precedence: flags, then the environment, then the file (``PHONE_AGENT_CONFIG``, or ``config.yaml``
in the user config directory), then defaults.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import httpx
import platformdirs
from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from apps_registry.yaml_file import YamlFileError, read_yaml
from phone_agent.device.settle import SettleMode
from phone_agent.errors import ConfigError
from phone_agent.model.credentials import Redactor, public_url, url_secrets
from phone_agent.model.providers import GENERIC_KEY_ENV, PROVIDERS, key_hint, resolve_api_key


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
    adb_port: int = Field(
        default_factory=lambda: int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037")), ge=1, le=65535,
        validate_default=True,
    )
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
    # NoDecode: the environment gives "eBay,Settings", not JSON.
    allow_apps: Annotated[list[str] | None, NoDecode] = None
    # Where api_key came from, to name it in messages: "--api-key", PHONE_AGENT_API_KEY or the config file.
    _api_key_source: str = PrivateAttr(default="--api-key")

    @property
    def api_key_source(self) -> str:
        """Where ``api_key`` was set, as a person would look for it."""
        return self._api_key_source

    @field_validator("api_key")
    @classmethod
    def _stripped_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A YAML block scalar or a CRLF env file leaves a line break around the key.
        key = value.get_secret_value().strip() if value else ""
        return SecretStr(key) if key else None
    channel: Literal["auto", "scrcpy", "adb"] = "auto"
    scrcpy_server: Path | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            shown = public_url(value)  # never the value itself: its user info and query can hold credentials
            httpx.URL(value)  # what the client will parse: a port such as ":abc" fails here, not mid-run
        except ValueError as exc:
            raise ValueError(f"is not a valid URL ({exc})") from None
        except httpx.InvalidURL as exc:
            raise ValueError(f"is not a valid URL ({Redactor(*url_secrets(value))(str(exc))})") from None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, e.g. http://localhost:8000/v1 (got {shown!r})")
        return value

    @field_validator("allow_apps", mode="before")
    @classmethod
    def _app_names(cls, value: object) -> object:
        """Split "eBay,Settings" (a full-width comma too, for Chinese names) into names."""
        if not isinstance(value, str):
            return value
        return [name.strip() for name in re.split(r"[,，]", value) if name.strip()]

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
        return init_settings, _NonBlankEnv(settings_cls), InitSettingsSource(settings_cls, init_kwargs=_config_file())


class _NonBlankEnv(EnvSettingsSource):
    """``PHONE_AGENT_*`` variables, a blank one counting as unset: ``PHONE_AGENT_API_KEY="  "`` hides no config file."""

    def __call__(self) -> dict[str, Any]:
        values = super().__call__().items()
        return {name: value for name, value in values if not (isinstance(value, str) and not value.strip())}


def _config_file() -> dict[str, Any]:
    """The config file's settings (none when there is no file).

    Raises:
        YamlFileError: the file is not usable YAML; OSError: it cannot be read.
    """
    path = config_path()
    if not path.is_file():
        return {}
    data = read_yaml(path).data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("it must be a mapping of setting names to values, e.g. 'max_steps: 30'")
    return data


def load_settings(**flags: Any) -> Settings:
    """Build settings, flags first; ``None`` flags are treated as not given.

    Raises:
        ConfigError: a value in the environment or the config file is invalid.
    """
    given = {name: value for name, value in flags.items() if value is not None}
    try:
        settings = Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_input=False))
        raise ConfigError(
            f"Invalid settings ({problems}). Check the flags, PHONE_AGENT_* variables and {config_path()}."
        ) from None
    except YamlFileError as exc:
        raise ConfigError(f"Cannot read the config file: {exc}") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the config file {config_path()}: {exc}") from exc
    # Flags win over the environment, which wins over the file.
    if "api_key" not in given:
        from_env = os.environ.get(GENERIC_KEY_ENV, "").strip()
        settings._api_key_source = GENERIC_KEY_ENV if from_env else f"api_key in {config_path()}"
    return settings


@dataclass(frozen=True)
class Endpoint:
    """The model endpoint a run talks to. ``repr`` never shows the key."""

    provider: str
    base_url: str
    model: str
    api_key: SecretStr | None
    api_key_env: tuple[str, ...]
    api_key_source: str = ""  # where the key came from, for messages: "--api-key", a variable, the config file

    @property
    def public_url(self) -> str:
        """The base URL without user info or query, which can hold credentials: for logs and traces."""
        return public_url(self.base_url)


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
    key: str | None
    if settings.api_key:
        key, source = settings.api_key.get_secret_value(), settings.api_key_source
    else:
        key, source = resolve_api_key(preset, env) or (None, "")
    key_env = preset.api_key_env if preset else ()
    if key is None and key_env and not settings.base_url:
        raise ConfigError(f"No API key for {name}. Give one with {key_hint(key_env)}.")
    return Endpoint(name, base_url.rstrip("/"), model, SecretStr(key) if key else None, key_env, source)
