"""Tests for the app catalogue: shipped data, loading user files, and name resolution."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import apps_registry
from apps_registry import (
    App,
    AppDataError,
    Registry,
    UnknownAppError,
    default_registry,
    fold_name,
    parse_app_file,
)
from apps_registry.loader import shipped_app_files

DATA_DIR = Path(apps_registry.__file__).parent / "data"
JAVA_PACKAGE = re.compile(r"[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+")
# The AutoGLM-Phone-Multilingual list, the system apps and the common Chinese apps.
_REQUIRED_NAMES = """
X, TikTok, WhatsApp, Telegram, Messenger, Google Chat, Quora, Reddit,
Instagram, Gmail, Google Calendar, Google Drive, Google Docs, Google Tasks,
Joplin, Amazon Shopping, Temu, Bluecoins, Duolingo, Google Fit, Chrome,
Play Store, Play Books, Files by Google, Google Maps, Booking.com, Trip.com,
Expedia, OpenTracks, YouTube, Spotify, Netflix, Uber, Airbnb, LinkedIn,
Discord, Slack, Zoom, Pinterest, Snapchat, Facebook, Outlook, Google Keep,
Google Photos, Google Translate, Microsoft Teams, Waze, McDonald's, Shein,
AliExpress, Signal, Line, Files, Calendar,
QQ, Alipay, Taobao, JD, Pinduoduo, Meituan, Dianping, Ele.me,
Xiaohongshu, Douyin, Kuaishou, Bilibili, Weibo, Zhihu, Amap, Baidu Maps,
Baidu, Didi, 12306, Ctrip, NetEase Cloud Music, QQ Music, iQIYI, Youku,
Tencent Video, Toutiao, DingTalk, Feishu, WeCom, Xianyu, Fliggy, Keep,
Tencent Meeting, UC Browser
"""
REQUIRED_APPS = [name.strip() for name in _REQUIRED_NAMES.split(",")]


@pytest.fixture(scope="module")
def registry() -> Registry:
    """The shipped registry, shared by the read-only tests."""
    return default_registry()


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a user data file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- shipped data


def test_every_shipped_file_validates() -> None:
    files = sorted(path.name for path in DATA_DIR.glob("*.yaml"))
    loaded = dict(shipped_app_files())
    assert files == sorted(loaded)
    assert {"international.yaml", "system.yaml", "chinese.yaml"} <= set(files)
    for name in files:
        apps = parse_app_file((DATA_DIR / name).read_text(encoding="utf-8"), name)
        assert apps, f"{name} is empty"
        assert tuple(apps) == loaded[name]


def test_catalogue_has_at_least_80_apps(registry: Registry) -> None:
    assert len(registry) >= 80
    assert len(registry.apps) == len(registry)


def test_no_name_or_alias_is_shared_after_folding() -> None:
    owners: dict[str, str] = {}
    for _, apps in shipped_app_files():
        for app in apps:
            for label in {fold_name(label) for label in app.names}:
                assert label not in owners, f"{app.name!r} and {owners[label]!r} share {label!r}"
                owners[label] = app.name


def test_no_package_belongs_to_two_apps(registry: Registry) -> None:
    seen: dict[str, str] = {}
    for app in registry.apps:
        for package in app.packages:
            assert package not in seen, f"{package} in {app.name!r} and {seen[package]!r}"
            seen[package] = app.name


def test_every_package_looks_like_a_java_package(registry: Registry) -> None:
    for app in registry.apps:
        for package in app.packages:
            assert JAVA_PACKAGE.fullmatch(package), f"{app.name}: {package!r}"


def test_apps_are_sorted_by_name(registry: Registry) -> None:
    names = [app.name for app in registry.apps]
    assert names == sorted(names, key=str.casefold)


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("Settings", "com.android.settings"),
        ("Contacts", "com.android.contacts"),
        ("Messages", "com.android.messaging"),
        ("Clock", "com.android.deskclock"),
        ("Clock", "com.google.android.deskclock"),
        ("eBay", "com.ebay.mobile"),
        ("Camera", "com.android.camera2"),
        ("Calculator", "com.android.calculator2"),
        ("Phone", "com.android.dialer"),
        ("Gallery", "com.android.gallery3d"),
        ("WeChat", "com.tencent.mm"),
    ],
)
def test_virtual_phone_packages_resolve(registry: Registry, name: str, package: str) -> None:
    assert package in registry.resolve(name).packages
    assert registry.by_package(package) == registry.resolve(name)


@pytest.mark.parametrize("name", REQUIRED_APPS)
def test_required_apps_are_listed(registry: Registry, name: str) -> None:
    assert registry.resolve(name).name == name


# --- resolve


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("eBay", "eBay"),  # exact name
        ("Twitter", "X"),  # alias
        ("Weixin", "WeChat"),  # alias
        ("微信", "WeChat"),  # Chinese alias
        ("高德地图", "Amap"),  # Chinese alias
        ("EBAY", "eBay"),  # case
        ("ｅＢａｙ", "eBay"),  # full-width
        ("ＷｅＣｈａｔ", "WeChat"),  # full-width
        ("playstore", "Play Store"),  # spaces ignored
        ("Google-Maps", "Google Maps"),  # punctuation ignored
        ("mcdonalds", "McDonald's"),  # apostrophe ignored
        ("  Settings  ", "Settings"),  # surrounding blanks
        ("com.ebay.mobile", "eBay"),  # package
        ("com.android.contacts", "Contacts"),  # alternate package
    ],
)
def test_resolve(registry: Registry, query: str, expected: str) -> None:
    assert registry.resolve(query).name == expected


def test_resolve_prefers_an_exact_name_over_a_folded_match() -> None:
    apps = [
        App(name="Notes", package="com.example.notes"),
        App(name="Tasks", aliases=("To Do",), package="com.example.tasks"),
    ]
    registry = Registry(apps)
    assert registry.resolve("Notes").package == "com.example.notes"
    assert registry.resolve("To Do").package == "com.example.tasks"
    assert registry.resolve("todo").package == "com.example.tasks"


def test_unknown_app_suggests_close_matches(registry: Registry) -> None:
    with pytest.raises(UnknownAppError) as caught:
        registry.resolve("Ebey")
    error = caught.value
    assert isinstance(error, LookupError)
    assert error.name == "Ebey"
    assert error.suggestions[0] == "eBay"
    assert str(error).startswith('Unknown app "Ebey". Did you mean: eBay')
    assert str(error).endswith("Use one of the names the app list gives.")


def test_unknown_app_suggests_by_alias_but_names_the_app(registry: Registry) -> None:
    with pytest.raises(UnknownAppError) as caught:
        registry.resolve("Twiter")
    assert "X" in caught.value.suggestions


def test_unknown_app_without_close_matches(registry: Registry) -> None:
    with pytest.raises(UnknownAppError) as caught:
        registry.resolve("zzqqxx")
    assert caught.value.suggestions == ()
    assert str(caught.value) == 'Unknown app "zzqqxx". Use one of the names the app list gives.'


def test_empty_name_is_unknown(registry: Registry) -> None:
    with pytest.raises(UnknownAppError):
        registry.resolve("")


def test_by_package(registry: Registry) -> None:
    assert registry.by_package("com.android.deskclock") is registry.resolve("Clock")
    assert registry.by_package("com.google.android.deskclock") is registry.resolve("Clock")
    assert registry.by_package("com.android.messaging") is registry.resolve("Messages")
    assert registry.by_package("com.example.not.installed") is None


# --- user files


def test_user_file_adds_and_overrides(tmp_path: Path) -> None:
    user = write(
        tmp_path,
        "mine.yaml",
        """
- name: Acme Notes
  aliases: [Acme, 笔记]
  package: com.acme.notes
  activity: .MainActivity
  category: productivity
- name: ebay
  aliases: [My Shop]
  package: com.ebay.mobile.beta
  category: shopping
""",
    )
    registry = Registry.load([user])
    shipped = default_registry()
    assert len(registry) == len(shipped) + 1

    added = registry.resolve("笔记")
    assert added.name == "Acme Notes"
    assert added.activity == ".MainActivity"

    replaced = registry.resolve("eBay")
    assert replaced.package == "com.ebay.mobile.beta"
    assert registry.resolve("My Shop") is replaced
    assert registry.by_package("com.ebay.mobile") is None
    assert registry.by_package("com.ebay.mobile.beta") is replaced
    with pytest.raises(UnknownAppError):
        registry.resolve("易贝")  # the shipped entry's alias went with it

    assert shipped.resolve("eBay").package == "com.ebay.mobile"


def test_user_file_cannot_reuse_another_apps_alias(tmp_path: Path) -> None:
    user = write(tmp_path, "clash.yaml", "- name: My Chat\n  aliases: [微信]\n  package: com.me.chat\n")
    with pytest.raises(AppDataError, match=r"clash\.yaml.*My Chat.*微信.*WeChat.*chinese\.yaml"):
        Registry.load([user])


def test_user_file_cannot_reuse_another_apps_package(tmp_path: Path) -> None:
    user = write(tmp_path, "clash.yaml", "- name: Auction\n  package: com.ebay.mobile\n")
    with pytest.raises(AppDataError, match=r'clash\.yaml.*Auction.*package "com\.ebay\.mobile".*eBay'):
        Registry.load([user])


def test_two_user_files_cannot_both_override_one_app(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "- name: eBay\n  package: com.ebay.one\n")
    second = write(tmp_path, "b.yaml", "- name: eBay\n  package: com.ebay.two\n")
    with pytest.raises(AppDataError, match=r"b\.yaml.*already used.*a\.yaml"):
        Registry.load([first, second])


def test_bad_user_file_names_file_entry_and_field(tmp_path: Path) -> None:
    user = write(
        tmp_path,
        "bad.yaml",
        "- name: Good\n  package: com.good.app\n- name: Broken\n  package: not a package\n",
    )
    with pytest.raises(AppDataError) as caught:
        Registry.load([user])
    message = str(caught.value)
    assert str(user) in message
    assert 'entry 2 ("Broken")' in message
    assert "package:" in message
    assert "'not a package' is not an Android package name" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- name: A\n  pacakge: com.a.b\n", r"entry 1 \(\"A\"\).*pacakge: Extra inputs"),
        ("- name: A\n", r"entry 1 \(\"A\"\): package: Field required"),
        ("- package: com.a.b\n", r"entry 1: name: Field required"),
        ("- name: '!!'\n  package: com.a.b\n", r"name: '!!' needs at least one letter"),
        ("- name: A\n  package: com.a.b\n  category: Big Apps\n", r"category: 'Big Apps'"),
        ("- name: A\n  package: com.a.b\n  activity: 'not/an activity'\n", r"activity: "),
        ("- name: A\n  package: com.a.b\n  alt_packages: [com.a.b]\n", r"repeat a package"),
        ("- name: A\n  package: com.a.b\n  aliases: [1]\n", r"aliases\.0: Input should be a valid string"),
        ("- just a string\n", r"entry 1: expected a mapping"),
        ("name: A\n", r"expected a list of app entries"),
        ("- name: [unclosed\n", r"not valid YAML"),
        ("- name: A\n  package: com.a.b\n- name: a\n  package: com.a.c\n", r'entry "a".*already used'),
    ],
)
def test_bad_data_is_reported(tmp_path: Path, text: str, expected: str) -> None:
    user = write(tmp_path, "user.yaml", text)
    with pytest.raises(AppDataError, match=expected) as caught:
        Registry.load([user])
    assert "user.yaml" in str(caught.value)


def test_missing_user_file_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(AppDataError, match="absent.yaml: cannot read"):
        Registry.load([missing])


def test_empty_user_file_adds_nothing(tmp_path: Path) -> None:
    assert len(Registry.load([write(tmp_path, "empty.yaml", "")])) == len(default_registry())


# --- the model and the module


def test_app_is_frozen_and_strict() -> None:
    app = App(name="A", package="com.a.b")
    with pytest.raises(ValidationError):
        app.name = "B"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        App.model_validate({"name": "A", "package": "com.a.b", "colour": "red"})
    assert app.packages == ("com.a.b",)
    assert app.activity is None


def test_fold_name() -> None:
    assert fold_name("ｅＢａｙ") == "ebay"
    assert fold_name("Play Store") == fold_name("playstore") == fold_name("PLAY-STORE")
    assert fold_name("铁路 12306") == "铁路12306"


def test_default_registry_is_cached() -> None:
    assert default_registry() is default_registry()


def test_package_imports_nothing_from_the_project() -> None:
    package_dir = DATA_DIR.parent
    for source in package_dir.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top not in {"phone_agent", "actions"}, f"{source.name} imports {module}"


def test_package_named_finds_one_installed_package_by_a_name_part() -> None:
    from apps_registry import package_named

    installed = {"net.cozic.joplin", "com.android.settings", "com.android.contacts", "org.example.notes"}
    assert package_named("Joplin", installed) == "net.cozic.joplin"
    assert package_named("ＮＯＴＥＳ", installed) == "org.example.notes"
    assert package_named("android", installed) is None  # several: too ambiguous
    assert package_named("ab", installed) is None and package_named("Calendar", installed) is None
