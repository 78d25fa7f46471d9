"""``ozg-commons demo`` against the embedded default, as a user runs it after ``make run``:
a fresh data directory, no configuration, twelve step lines, exit 0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _demo(
    tmp_path: Path, *args: str, lang: str | None = None, keys: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``ozg-commons demo ARGS`` in a new process on the data directory ``tmp_path/var``
    (with the demo authorities' keys of ``keys`` copied in, else made on first start), run
    from ``tmp_path``: the data dir, not the current directory, holds everything."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env["OZG_DATA_DIR"] = str(tmp_path / "var")
    if lang is not None:
        env["LANG"] = lang
    if keys is not None:
        shutil.copytree(keys, tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "gateway", "demo", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )


@pytest.mark.timeout(600)
def test_the_demo_command_runs_the_whole_story_on_a_fresh_data_dir(tmp_path: Path) -> None:
    done = _demo(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = [line for line in done.stdout.splitlines() if re.match(r"^\s?\d{1,2}\. ", line)]
    assert [int(line.split(".")[0]) for line in steps] == list(range(1, 13)), done.stdout
    assert "the DPO verifies the whole log: the whole audit log verifies" in steps[-1]
    assert (tmp_path / "var" / "authorities" / "demo" / "tf-encryption.key.pem").is_file()


def test_the_demo_command_fails_clearly_for_an_unknown_authority(tmp_path: Path) -> None:
    done = _demo(tmp_path, "--authority", "nowhere")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the demo authority 'nowhere' is not available" in done.stderr


@pytest.mark.parametrize(
    ("lang", "lines"),
    [
        (
            "C.UTF-8",
            [
                " 1. an applicant logs in: signed in as demo-applicant",
                " 2. creates a vault key: vault key pair made on the device; the server holds "
                "only wrapped copies",
                "Stopped after step 2, as asked.",
            ],
        ),
        (
            "de_DE.UTF-8",
            [
                " 1. eine Antragstellerin meldet sich an: angemeldet als demo-applicant",
                " 2. erstellt einen Tresor-Schlüssel: Schlüsselpaar des Tresors auf dem Gerät "
                "erzeugt; der Server hat nur verpackte Kopien",
                "Wie gewünscht nach Schritt 2 aufgehört.",
            ],
        ),
    ],
)
@pytest.mark.timeout(600)
def test_the_demo_speaks_the_users_language(
    lang: str, lines: list[str], tmp_path: Path, demo_data_dir: Path
) -> None:
    done = _demo(tmp_path, "--stop-after", "2", lang=lang, keys=demo_data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == lines


def test_the_demo_says_a_missing_authority_in_german(tmp_path: Path, demo_data_dir: Path) -> None:
    done = _demo(tmp_path, "--authority", "nowhere", lang="de_DE.UTF-8", keys=demo_data_dir)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Fehler: die Demo-Behörde 'nowhere' ist nicht verfügbar: " in done.stderr
