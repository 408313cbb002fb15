"""Keeping credentials out of text: a key that can be sent in a header, every spelling of it, URLs without userinfo."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

# Shorter "secrets" are placeholders ("EMPTY", "x") and would garble every word they occur in.
MIN_SECRET_CHARS = 8
REDACTED = "***"


def header_problem(key: str) -> str | None:
    """Why the key cannot be sent in an HTTP header (never quoting it), or None when it can."""
    if "\r" in key or "\n" in key:
        return "a line break"
    if not key.isascii():
        return "a non-ASCII character"
    if not key.isprintable():
        return "a control character"
    return None


def public_url(url: str) -> str:
    """The URL without user info or query, which can hold credentials: what messages and traces show."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def url_secrets(url: str) -> tuple[str, ...]:
    """The credentials a URL can carry: its user info, its password and its query."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[0], parts.password or "", parts.query


def spellings(secret: str) -> set[str]:
    """Every way a secret can appear in text: raw, escaped by repr() or JSON, percent-encoded or -decoded."""
    if len(secret) < MIN_SECRET_CHARS:
        return set()
    forms = {
        secret,
        repr(secret)[1:-1],
        repr(secret.encode())[2:-1],  # how httpx and h11 quote a bad header value
        json.dumps(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        unquote(secret),
    }
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Replaces every spelling of the given secrets with ``***``; secrets shorter than 8 characters are left alone."""

    def __init__(self, *secrets: str | None) -> None:
        forms = {form for secret in secrets if secret for form in spellings(secret)}
        # Longest first, so a spelling is never cut in half by a shorter one it contains.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """The text without any of the secrets."""
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text
