"""``ozg-commons delivery tick`` as cron runs it: JSON on stdout (ids only, keys in English
whatever the language), a summary line on stderr in the user's language (``LANG``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from commons.settings import Settings
from gateway import migrations
from gateway.cli import app


@pytest.fixture
def data_dir(tmp_path: Path, demo_data_dir: Path) -> Path:
    path = tmp_path / "var"
    shutil.copytree(demo_data_dir, path)  # the demo authorities' keys, made once per run
    migrations.upgrade(Settings(data_dir=path).effective_database_url)
    return path


@pytest.mark.parametrize(
    ("lang", "summary"),
    [
        (
            "en_GB.UTF-8",
            "0 incomplete deleted, 0 warned about, 0 rejected; 0 callbacks sent, 0 failed",
        ),
        (
            "de_DE.UTF-8",
            "0 unvollständige gelöscht, vor 0 gewarnt, 0 zurückgewiesen; "
            "0 Callbacks gesendet, 0 fehlgeschlagen",
        ),
    ],
)
def test_tick_prints_json_and_a_summary_in_the_users_language(
    lang: str, summary: str, data_dir: Path
) -> None:
    env = {"OZG_DATA_DIR": str(data_dir), "LANG": lang}
    done = CliRunner().invoke(app, ["delivery", "tick"], env=env)
    assert done.exit_code == 0, (done.output, done.exception)
    assert json.loads(done.stdout) == {
        "deleted": [],
        "warned": [],
        "rejected": [],
        "callbacks_sent": [],
        "callbacks_failed": [],
    }
    assert done.stderr.strip() == summary


def test_tick_refuses_bad_settings_in_german(data_dir: Path) -> None:
    env = {"OZG_DATA_DIR": str(data_dir), "OZG_ENV": "nonsense", "LANG": "de_DE.UTF-8"}
    done = CliRunner().invoke(app, ["delivery", "tick"], env=env)
    assert done.exit_code == 2
    assert done.stderr.startswith("Fehler: ")
    assert "Traceback" not in done.output
