"""The command lines' one confirmation and one file write (``commons.cli_safety``): nothing
is destroyed without a yes, and no file is replaced or left half-written."""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from commons import cli_safety


def test_a_new_file_is_written_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    cli_safety.write_new_file(target, b"{}", force=False)
    assert target.read_bytes() == b"{}"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    cli_safety.write_new_file(target, b"[]", force=True, private=False)
    assert target.read_bytes() == b"[]"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]  # no temporary left


def test_an_existing_file_or_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "mine.pdf"
    target.write_bytes(b"the user's own")
    with pytest.raises(typer.Exit) as refused:
        cli_safety.write_new_file(target, b"other", force=False)
    assert refused.value.exit_code == 2
    assert target.read_bytes() == b"the user's own"
    with pytest.raises(typer.Exit):
        cli_safety.write_new_file(tmp_path, b"other", force=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"error: {target} exists; give --force to replace it",
        f"error: {tmp_path} is a folder; give a file name",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.pdf"]


def test_a_file_that_appears_while_writing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before writing is not enough: the last rename never replaces either."""
    target = tmp_path / "letter.pdf"
    chmod = os.chmod

    def meanwhile(path: Any, mode: int) -> None:
        target.write_bytes(b"written meanwhile")
        chmod(path, mode)

    monkeypatch.setattr(os, "chmod", meanwhile)
    with pytest.raises(typer.Exit) as refused:
        cli_safety.write_new_file(target, b"ours", force=False)
    assert refused.value.exit_code == 2
    assert target.read_bytes() == b"written meanwhile"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["letter.pdf"]


def test_confirm_asks_and_refuses_without_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_safety.confirm("Delete?", yes=True)  # --yes: not asked
    monkeypatch.setattr(cli_safety, "interactive", lambda: False)
    with pytest.raises(typer.Exit) as no_terminal:
        cli_safety.confirm("Delete?", yes=False)
    assert no_terminal.value.exit_code == 2
    assert "give --yes to confirm" in capsys.readouterr().err
    monkeypatch.setattr(cli_safety, "interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\ny\n"))
    with pytest.raises(typer.Exit) as declined:
        cli_safety.confirm("Delete?", yes=False)
    assert declined.value.exit_code == 1
    assert capsys.readouterr().err.endswith("nothing was changed\n")
    cli_safety.confirm("Delete?", yes=False)  # "y": goes on
