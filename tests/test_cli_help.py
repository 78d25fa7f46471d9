"""Every command's ``--help`` is plain text a person can read (issue 15, "Help text").

The walk starts at the root and loads every group the way a user's command line does
(``ozg-commons vault --help`` imports the vault's commands only then), so a group added
later is checked without changing this test.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from gateway.cli import app

RAW_MARKUP = (
    re.compile(r"``"),  # reStructuredText literals
    re.compile(r":(?:func|class|mod|meth|data|attr):`"),  # Sphinx roles
    re.compile(r"\[/?(?:bold|red|yellow|green|dim|italic)[^\]]*\]"),  # Rich markup
    re.compile(r"<bool(?:ean)?>", re.IGNORECASE),  # a flag takes no value
    re.compile(r"\x1b\["),  # terminal escapes
    re.compile(r"[╭╰│─]"),  # Rich's boxes
)


def _paths() -> list[tuple[str, ...]]:
    """Every command path (``("vault", "get")``...) reachable from the root."""
    group: Any = typer.main.get_command(app)
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        if not hasattr(command, "list_commands"):  # a command, not a group
            return
        ctx = typer.Context(command, info_name=path[-1] if path else "ozg-commons")
        for name in command.list_commands(ctx):
            _n, sub, _r = command.resolve_command(ctx, [name])
            assert sub is not None, (*path, name)
            walk(sub, (*path, name))

    walk(group, ())
    return found


PATHS = _paths()


def test_the_walk_finds_every_group() -> None:
    groups = {p[0] for p in PATHS if p}
    assert {"vault", "authority", "audit", "payments", "login", "receipt"} <= groups
    assert ("vault", "get") in PATHS
    assert ("authority", "case", "decide") in PATHS
    assert len(PATHS) > 40


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "ozg-commons")
def test_help_is_plain_text(path: tuple[str, ...]) -> None:
    args = [*path, "--help"]
    if path[:2] == ("authority", "case") and len(path) > 2:
        args = ["authority", "case", "CASE_ID", *path[2:], "--help"]
    result = CliRunner().invoke(app, args, terminal_width=100)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Usage:" in result.output
    for pattern in RAW_MARKUP:
        found = pattern.search(result.output)
        assert found is None, f"{' '.join(path)} --help shows {found.group(0)!r}:\n{result.output}"


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    """Every command object reachable from the root, with its path (as the walk above)."""
    group: Any = typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append((path, command))
        if hasattr(command, "list_commands"):
            ctx = typer.Context(command, info_name=path[-1] if path else "ozg-commons")
            for name in command.list_commands(ctx):
                walk(command.resolve_command(ctx, [name])[1], (*path, name))

    walk(group, ())
    return found


def test_every_help_text_is_in_the_catalogue_as_typer_shows_it() -> None:
    """``make messages`` extracts each help text with the ``msgid`` the command line looks
    up (a docstring cleaned as Typer cleans it), so that none stays English in German."""
    from babel.messages.pofile import read_po

    from gateway.portal import LOCALES_DIR

    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        german = {m.id: m.string for m in read_po(handle) if m.id}
    missing = [
        (" ".join(path), text)
        for path, command in _commands()
        for text in (command.help, *(getattr(p, "help", None) for p in command.params))
        if text and not german.get(text)
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("args", "english", "german"),
    [
        ((), "Shared services for online", "Gemeinsame Dienste für Online-Anträge"),
        (("vault", "get"), "Download and decrypt a document", "Ein Dokument herunterladen"),
        (("serve",), "Interface to bind.", "Netzwerkschnittstelle, an die gebunden wird."),
        (("demo",), "Stop after this step", "Nach diesem Schritt aufhören"),
        (("delivery", "tick"), "Delete incomplete submissions", "Unvollständige Einreichungen"),
    ],
)
def test_help_is_german_under_a_german_locale(
    args: tuple[str, ...], english: str, german: str
) -> None:
    said = CliRunner().invoke(app, [*args, "--help"], terminal_width=100)
    assert said.exit_code == 0, said.output
    assert english in said.output
    assert "Usage:" in said.output
    assert "Show this message and exit." in said.output
    deutsch = CliRunner().invoke(
        app, [*args, "--help"], terminal_width=100, env={"LANG": "de_DE.UTF-8"}
    )
    assert deutsch.exit_code == 0, deutsch.output
    assert german in " ".join(deutsch.output.split())  # Click wraps the lines
    assert deutsch.output.startswith("Aufruf: ")
    assert "Optionen:" in deutsch.output
    assert "Diese Hilfe anzeigen und beenden." in deutsch.output
    assert english not in deutsch.output
    for pattern in RAW_MARKUP:
        assert pattern.search(deutsch.output) is None, deutsch.output
