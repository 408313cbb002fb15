"""Presets for the endpoints that serve AutoGLM-Phone, and how their API keys are found."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Checked before any provider-specific variable, so one variable works for every provider.
GENERIC_KEY_ENV = "PHONE_AGENT_API_KEY"


@dataclass(frozen=True)
class Provider:
    """An OpenAI-compatible endpoint, the AutoGLM model name it serves, and where its key lives."""

    name: str
    base_url: str
    model: str
    api_key_env: tuple[str, ...] = ()


PROVIDERS: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        Provider("zai", "https://api.z.ai/api/paas/v4", "autoglm-phone-multilingual", ("ZAI_API_KEY",)),
        Provider(
            "bigmodel",
            "https://open.bigmodel.cn/api/paas/v4",
            "autoglm-phone",
            ("ZHIPUAI_API_KEY", "BIGMODEL_API_KEY"),
        ),
        # A self-hosted vLLM or SGLang server; these accept any key or none.
        Provider("local", "http://localhost:8000/v1", "autoglm-phone-9b-multilingual"),
        Provider(
            "novita",
            "https://api.novita.ai/openai",
            "zai-org/autoglm-phone-9b-multilingual",
            ("NOVITA_API_KEY",),
        ),
        Provider(
            "parasail",
            "https://api.parasail.io/v1",
            "parasail-auto-glm-9b-multilingual",
            ("PARASAIL_API_KEY",),
        ),
    )
}


def resolve_api_key(provider: Provider | None, env: Mapping[str, str]) -> tuple[str, str] | None:
    """Return the key from the environment and the variable that held it: PHONE_AGENT_API_KEY, then the provider's.

    Empty values count as unset, so an exported-but-blank variable does not hide a later one.
    """
    names = (GENERIC_KEY_ENV, *(provider.api_key_env if provider else ()))
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value, name
    return None


def key_hint(api_key_env: Sequence[str] = ()) -> str:
    """Name every place a key can come from, for messages about a missing or rejected key."""
    return " / ".join(("--api-key", GENERIC_KEY_ENV, *api_key_env))
