"""The command line's languages: chosen from the environment as gettext chooses, translated
from the portal's own catalogues, placeholders filled in after translation."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commons import i18n
from commons.i18n import _, cli_language, ngettext
from gateway.portal import LOCALES_DIR


@pytest.fixture(autouse=True)
def _portal_catalogues() -> Iterator[None]:
    i18n.use_catalogues(LOCALES_DIR)
    yield
    i18n.use_catalogues(LOCALES_DIR)


@pytest.mark.parametrize(
    ("environ", "language"),
    [
        ({}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de"}, "de"),
        ({"LANG": "de_AT.UTF-8@euro"}, "de"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),  # no French catalogue
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "de_DE.UTF-8"}, "de"),
        ({"LANG": "de_DE.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LC_ALL": "de_DE.UTF-8"}, "de"),
        ({"LANG": "en_US.UTF-8", "LANGUAGE": "fr:de:en"}, "de"),
        ({"LANG": "C", "LANGUAGE": "de"}, "en"),  # gettext ignores LANGUAGE in the C locale
    ],
)
def test_the_language_follows_the_environment(environ: dict[str, str], language: str) -> None:
    assert cli_language(environ) == language


def test_messages_come_from_the_portals_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _("You") == "You"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert _("You") == "Sie"  # the portal's own translation
    assert _("error:") == "Fehler:"
    assert _("production problem: {problem}", problem="x") == "Problem im Betrieb: x"
    assert _("a message nobody translated: {n}", n=3) == "a message nobody translated: 3"
    assert ngettext("{n} entry", "{n} entries", 1) == "1 Eintrag"
    assert ngettext("{n} entry", "{n} entries", 2) == "2 Einträge"
    assert ngettext("{n} thing", "{n} things", 2) == "2 things"  # untranslated: English


def test_without_catalogues_everything_is_english(monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.use_catalogues(None)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert cli_language() == "en"
    assert _("You") == "You"


def test_a_broken_translation_falls_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = tmp_path / "de" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid "{path} exists"\nmsgstr "{pfad} existiert"\n', encoding="utf-8")
    i18n.use_catalogues(tmp_path)
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert _("{path} exists", path="a.json") == "a.json exists"


def test_the_root_command_speaks_german(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.cli import app

    monkeypatch.setenv("OZG_DATABASE_URL", "not-a-url://")
    monkeypatch.setenv("OZG_ENV", "nonsense")
    english = CliRunner().invoke(app, ["config", "show"])
    assert english.exit_code == 2
    assert "error: invalid settings:" in english.stderr
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    german = CliRunner().invoke(app, ["config", "show"])
    assert german.exit_code == 2
    assert "Fehler: ungültige Einstellungen:" in german.stderr


@pytest.mark.parametrize(
    ("header", "language", "matched"),
    [
        (None, "en", False),
        ("", "en", False),
        ("de", "de", True),
        ("de-AT,de;q=0.9", "de", True),
        ("fr-FR, de;q=0.8, en;q=0.9", "en", True),
        ("fr-FR, de;q=0.8", "de", True),
        ("de;q=0, en", "en", True),
        ("de;q=nonsense", "en", False),
        ("*", "en", False),
        (",,;;q=", "en", False),
    ],
)
def test_the_api_language_is_the_best_of_accept_language(
    header: str | None, language: str, matched: bool
) -> None:
    assert i18n.negotiate(header) == language
    # without a match, the caller's default (the portal's pages: German)
    assert i18n.negotiate(header, default="de") == (language if matched else "de")


def test_a_deferred_message_is_english_and_can_be_said_in_german() -> None:
    none = i18n.Deferred("none")
    message = i18n.Deferred(
        "there is no authority {authority}; known authorities: {known}",
        authority="'x'",
        known=none,
    )
    assert message == "there is no authority 'x'; known authorities: none"
    assert isinstance(message, str)
    assert i18n.translate("en", message) == message
    assert i18n.translate("de", message) == "es gibt keine Behörde 'x'; bekannte Behörden: keine"
    assert i18n.translate("de", "Not Found") == "Nicht gefunden"  # a marked constant
    assert i18n.translate("de", "an unmarked detail") == "an unmarked detail"
    copied = pickle.loads(pickle.dumps(message))  # noqa: S301 (our own bytes)
    assert i18n.translate("de", copied).startswith("es gibt")


def test_the_command_line_asks_the_server_for_its_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert i18n.accept_language() == "en"
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    assert i18n.accept_language() == "de, en;q=0.5"
    assert i18n.negotiate(i18n.accept_language()) == "de"


def test_help_texts_are_extracted_as_typer_shows_them() -> None:
    from commons.i18n_extract import help_texts

    source = '''
import typer
app = typer.Typer(help="The group.")

@app.command()
def first(
    name: Annotated[str, typer.Option(help="A name, "
                                           "in two parts.")] = "x",
) -> None:
    """The first command.

    Its second paragraph."""

def plain(flag: bool = typer.Option(False, help="  Indented.")) -> None:
    """A command without a decorator (a CliGroup's single function)."""

def helper(value: int) -> None:
    """Not a command: no docstring extracted."""
'''
    assert sorted(text for _line, text in help_texts(source)) == [
        "A command without a decorator (a CliGroup's single function).",
        "A name, in two parts.",
        "Indented.",
        "The first command.\n\nIts second paragraph.",
        "The group.",
    ]
