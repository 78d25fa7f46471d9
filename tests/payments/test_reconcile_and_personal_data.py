"""Reconciliation CSV with totals and mismatches; GDPR export and erasure."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from commons.db import Database
from gateway.cli import app as cli_app
from gateway.migrations import upgrade
from payments.models import IdempotencyKey, Payment, Quote, Refund, SandboxTransaction
from payments.reconcile import reconcile
from payments.runtime import PaymentsRuntime
from tests.payments.conftest import ActAs, new_payment
from tests.payments.fake_xbezahldienste import FakeXBezahldienste


def _book_in_sandbox(client: TestClient, payment: dict[str, object]) -> None:
    page = str(payment["payment_url"]).removeprefix("http://127.0.0.1:8000")
    client.post(page, data={"action": "success"}, follow_redirects=False)


def test_reconciliation_exports_bookings_with_totals_and_flags_mismatches(
    client: TestClient,
    act_as: ActAs,
    runtime: PaymentsRuntime,
    database: Database,
    fake_xb: FakeXBezahldienste,
) -> None:
    booked = [new_payment(client, act_as, authority="xb", key=f"b{i}") for i in range(2)]
    pending = new_payment(client, act_as, authority="xb", key="p")
    for payment in [*booked, pending]:
        tx = next(t for t, v in fake_xb.transactions.items() if v["requestId"] == payment["id"])
        fake_xb.set_status(tx, "BOOKED")  # the platform booked all three ...
    for payment in booked:
        client.post(f"/v1/payments/{payment['id']}/refresh")  # ... we learnt of two
    today = datetime.now(UTC).date()
    with database.transaction() as session:
        result = reconcile(session, runtime, "xb", today, timezone="UTC")
        later = reconcile(session, runtime, "xb", today.replace(year=today.year + 1))
    text = result.to_csv()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == [
        "kassenzeichen",
        "amount",
        "currency",
        "booking_date",
        "provider_reference",
    ]
    assert "case_reference" in rows[0]
    assert result.booked_count == 2
    assert result.booked_total_cents == 2 * 9800
    assert rows[-1][:4] == ["TOTAL", "196.00", "EUR", "2 bookings"]
    assert len(result.mismatches) == 1
    (mismatch,) = result.mismatches
    assert mismatch.kassenzeichen == pending["kassenzeichen"]
    assert "provider BOOKED, ours pending" in mismatch.mismatch
    assert {r[0] for r in rows[1:-1]} == {p["kassenzeichen"] for p in [*booked, pending]}
    assert later.rows == []


def test_reconcile_cli(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(database_url)
    runner = CliRunner()
    out = tmp_path / "day.csv"
    result = runner.invoke(
        cli_app,
        [
            "payments",
            "reconcile",
            "--authority",
            "tf",
            "--date",
            "2026-11-28",
            "--output",
            str(out),
        ],
        env={"OZG_DATABASE_URL": database_url, "OZG_DATA_DIR": str(tmp_path)},
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[-1].startswith("TOTAL,0.00,EUR,0 bookings")
    bad = runner.invoke(cli_app, ["payments", "reconcile", "--authority", "x", "--date", "28.11."])
    assert bad.exit_code == 2
    typo = runner.invoke(
        cli_app,
        ["payments", "reconcile", "--authority", "nobody", "--date", "2026-11-28"],
        env={"OZG_DATABASE_URL": database_url, "OZG_DATA_DIR": str(tmp_path)},
    )
    assert typo.exit_code == 2
    assert "there is no authority 'nobody'; known authorities: ee, p, tf" in typo.output


def test_export_and_erasure_keep_only_what_the_cash_office_needs(
    client: TestClient, act_as: ActAs, app: FastAPI, database: Database
) -> None:
    paid = new_payment(client, act_as, key="paid")
    _book_in_sandbox(client, paid)
    abandoned = new_payment(client, act_as, key="abandoned")
    handler = next(h for h in app.state.personal_data if h.component == "payments")
    with database.transaction() as session:
        exported = handler.export(session, "applicant-subject-1")
    assert {p["id"] for p in exported["payments"]} == {paid["id"], abandoned["id"]}
    assert exported["quotes"][0]["explanation"]["lines"]

    with database.transaction() as session:
        report = handler.shred(session, "applicant-subject-1")
    assert report.component == "payments"
    assert [r.record_id for r in report.retained] == [paid["id"]]
    retained = report.retained[0]
    assert retained.record_type == "payments.booking"
    assert "GDPR" in retained.legal_basis
    assert retained.delete_after.year >= datetime.now(UTC).year + 9

    with database.transaction() as session:
        kept = session.get(Payment, paid["id"])
        assert kept is not None
        assert (kept.kassenzeichen, kept.amount_cents) == (paid["kassenzeichen"], 9800)
        assert kept.data_subject is None
        assert kept.case_reference is None
        assert kept.case_hash is None
        assert session.get(Payment, abandoned["id"]) is None
        quote = session.get(Quote, paid["quote_id"])
        assert quote is not None
        assert quote.explanation is None
        assert quote.data_subject is None
        assert session.get(Quote, abandoned["quote_id"]) is None
        # the sandbox (the provider) shredded its side too
        ids = [paid["id"], abandoned["id"]]
        assert (
            session.scalars(
                select(SandboxTransaction).where(SandboxTransaction.request_id.in_(ids))
            ).all()
            == []
        )
        exported = handler.export(session, "applicant-subject-1")
        assert exported == {"quotes": [], "payments": []}
        # the idempotency keys that led to the kept booking (result id) go too
        assert (
            session.scalars(
                select(IdempotencyKey.id).where(IdempotencyKey.result_id.in_(ids))
            ).all()
            == []
        )
        assert quote.created_by == "shredded"
        # privacy canary: nothing in payments tables still names the subject or the case
        for model in (Payment, Quote, Refund, IdempotencyKey):
            dump = repr(session.execute(select(model.__table__)).fetchall())
            assert "applicant-subject-1" not in dump
            assert "case-0001" not in dump
