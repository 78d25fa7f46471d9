"""The erasure journal (account/journal.py, ADR 0007): what an entry holds, how a damaged
journal is refused, that an erasure which cannot be journaled rolls back, and that production
names the journal's place. The restore story itself: tests/gateway/test_erasure_restore.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account.errors import JournalUnavailable
from account.journal import JOURNAL_FILE, ErasureJournal, JournalEntry, unseen_erasures
from account.principal import Principal
from account.runtime import config_problems, erasure_journal_dir
from commons.db import Database
from commons.settings import Settings
from tests.account.test_gdpr import SUBJECT, applicant

Act = Callable[[Principal | None], None]
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ERASE = {"confirm": "erase my account"}


def entry(receipt_id: str = "r-1", at: datetime = T0) -> JournalEntry:
    return JournalEntry(
        receipt_id=receipt_id,
        identity_issuer="https://id.example/realms/ozg",
        subject_digest="ab" * 32,
        erased_at=at,
        delete_after=at + timedelta(days=3 * 365),
        receipt={"receipt": "x.y.z", "kind": "erasure", "claims": {"receipt_id": receipt_id}},
    )


def test_entries_round_trip_in_order(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path / "journal")
    assert journal.entries() == []
    journal.append(entry("r-1"))
    journal.append(entry("r-2", T0 + timedelta(seconds=1)))
    assert journal.entries() == [entry("r-1"), entry("r-2", T0 + timedelta(seconds=1))]
    assert (tmp_path / "journal" / JOURNAL_FILE).stat().st_mode & 0o077 == 0


def test_a_damaged_line_stops_the_reader_and_a_torn_last_line_is_skipped(
    tmp_path: Path,
) -> None:
    journal = ErasureJournal(tmp_path)
    journal.append(entry("r-1"))
    with journal.path.open("a", encoding="ascii") as handle:
        handle.write(entry("r-2").to_json()[:40])  # an append that crashed midway
    assert [e.receipt_id for e in journal.entries()] == ["r-1"]
    journal.append(entry("r-3"))  # the torn tail is cut off, not glued to the new entry
    assert [e.receipt_id for e in journal.entries()] == ["r-1", "r-3"]
    for damage in ("{}\n", "not json\n", entry("r-3").to_json().replace("r-3", "") + "\n"):
        journal.path.write_text(entry("r-1").to_json() + "\n" + damage, encoding="ascii")
        with pytest.raises(JournalUnavailable, match="damaged at line 2"):
            journal.entries()


def test_prune_drops_only_entries_past_their_receipts_deletion_date(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path)
    assert journal.prune(T0) == 0
    old = entry("r-old", T0 - timedelta(days=4 * 365))
    journal.append(old)
    journal.append(entry("r-new"))
    assert journal.prune(T0) == 1
    assert journal.entries() == [entry("r-new")]
    assert journal.prune(T0) == 0
    assert journal.path.stat().st_mode & 0o077 == 0


def test_pending_skips_what_the_database_has_seen_and_what_has_expired(
    database: Database,
) -> None:
    old = entry("r-old", T0 - timedelta(days=4 * 365))
    with database.transaction() as session:
        assert unseen_erasures(session, [old, entry("r-new")], T0) == [entry("r-new")]


def test_an_erasure_that_cannot_be_journaled_rolls_back(
    app: FastAPI, client: TestClient, act_as: Act, tmp_path: Path
) -> None:
    act_as(applicant())
    assert client.get("/v1/me").status_code == 200
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="ascii")
    app.state.erasure_journal = ErasureJournal(blocker / "journal")
    response = client.request("DELETE", "/v1/me", json=ERASE)
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("erasure-journal-unavailable")
    assert str(tmp_path) not in response.text
    me = client.get("/v1/me")
    assert me.status_code == 200
    assert me.json()["subject"] == SUBJECT  # still there: the erasure can be retried

    app.state.erasure_journal = ErasureJournal(tmp_path / "journal")
    assert client.request("DELETE", "/v1/me", json=ERASE).status_code == 200
    [written] = ErasureJournal(tmp_path / "journal").entries()
    assert SUBJECT not in written.to_json()


def test_production_names_the_journal_explicitly(tmp_path: Path) -> None:
    unset = Settings(env="production", data_dir=tmp_path)
    assert erasure_journal_dir(unset) == tmp_path / "erasure-journal"
    assert any("OZG_ACCOUNT_ERASURE_JOURNAL_DIR" in p for p in config_problems(unset))
    named = Settings(
        env="production",
        data_dir=tmp_path,
        sections={"account": {"erasure_journal_dir": str(tmp_path / "j")}},
    )
    assert erasure_journal_dir(named) == tmp_path / "j"
    assert not any("ERASURE_JOURNAL" in p for p in config_problems(named))
    development = Settings(data_dir=tmp_path)
    assert not any("ERASURE_JOURNAL" in p for p in config_problems(development))


def test_every_subject_column_names_a_real_column() -> None:
    from commons.db import Base
    from gateway.declarations import installed_components
    from gateway.migrations import import_all_models

    import_all_models()
    named = [c for component in installed_components() for c in component.subject_columns]
    assert "account_account.subject" in named
    assert "compliance_access_personal.data_subject" in named
    for qualified in named:
        table, _, column = qualified.partition(".")
        assert table in Base.metadata.tables, qualified
        assert column in Base.metadata.tables[table].columns, qualified


def test_serve_and_restore_refuse_a_damaged_journal_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from gateway.cli import app as cli

    started: list[bool] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append(True))
    journal = ErasureJournal(tmp_path / "var" / "erasure-journal")
    journal.append(entry("r-1"))
    with journal.path.open("a", encoding="ascii") as handle:
        handle.write("garbage\n")
    env = {"OZG_DATA_DIR": str(tmp_path / "var")}
    for command in (["serve"], ["restore"]):
        result = CliRunner().invoke(cli, command, env=env)
        assert result.exit_code == 2, result.output
        errors = [line for line in result.output.splitlines() if line.startswith("error:")]
        assert errors == ["error: the erasure journal is damaged at line 2 of erasures.jsonl"]
    assert not started
