"""Retention: running the declared policies, and the Art. 30 register as Markdown and JSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from compliance.declarations import Declarations
from compliance.models import AccessEntry, AccessPersonal
from compliance.recorder import AccessEvent, Actor, record_access

RETENTION_ACTOR = Actor(subject="ozg-commons/retention", role="system")


def shred_expired_entries(session: Session, cutoff: datetime) -> list[str]:
    """Executor for ``compliance.access_entry``: shred the personal part of old entries."""
    ids = list(
        session.scalars(
            select(AccessPersonal.entry_id)
            .join(AccessEntry, AccessEntry.id == AccessPersonal.entry_id)
            .where(AccessEntry.at < cutoff)
        )
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(AccessPersonal).where(AccessPersonal.entry_id.in_(chunk)))
    return ids


def run_retention(
    session: Session, declarations: Declarations, *, clock: Clock = system_clock
) -> dict[str, int | None]:
    """Apply every policy that has an executor; record each deletion. Returns counts per
    record type (``None``: declared, but no executor is registered for it)."""
    now = clock.now()
    done: dict[str, int | None] = {}
    for policy in declarations.retention:
        executor = declarations.executors.get(policy.record_type)
        if executor is None:
            done[policy.record_type] = None
            continue
        ids = executor(session, now - policy.keep_for)
        for record_id in ids:
            record_access(
                session,
                AccessEvent(
                    actor=RETENTION_ACTOR,
                    data_subject=None,
                    action="compliance.retention.delete",
                    resource=f"{policy.record_type}/{record_id}",
                    purpose="storage limitation",
                    legal_basis=policy.legal_basis,
                ),
                clock=clock,
            )
        done[policy.record_type] = len(ids)
    return done


def register_json(declarations: Declarations) -> dict[str, Any]:
    return {
        "format": "ozg-commons-art30-register/v1",
        "processing_activities": [
            {
                **asdict(a),
                "data_categories": list(a.data_categories),
                "data_subjects": list(a.data_subjects),
                "recipients": list(a.recipients),
            }
            for a in declarations.activities
        ],
        "retention_policies": [
            {
                "record_type": r.record_type,
                "keep_for_days": r.keep_for.days,
                "legal_basis": r.legal_basis,
                "description": r.description,
            }
            for r in declarations.retention
        ],
        "actions": [asdict(a) for a in declarations.actions],
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def register_markdown(declarations: Declarations) -> str:
    def lines() -> Iterator[str]:
        yield "# Record of processing activities (GDPR Art. 30(1))"
        yield ""
        for a in declarations.activities:
            yield f"## {_md(a.name)} (`{a.id}`)"
            yield ""
            yield f"- **Purpose:** {_md(a.purpose)}"
            yield f"- **Categories of data:** {_md(', '.join(a.data_categories))}"
            yield f"- **Data subjects:** {_md(', '.join(a.data_subjects))}"
            yield f"- **Recipients:** {_md(', '.join(a.recipients))}"
            yield f"- **Legal basis:** {_md(a.legal_basis)}"
            yield f"- **Retention:** {_md(a.retention)}"
            yield ""
        yield "## Retention schedule"
        yield ""
        yield "| record type | kept for (days) | legal basis | what |"
        yield "|---|---|---|---|"
        for r in declarations.retention:
            yield (
                f"| `{r.record_type}` | {r.keep_for.days} | {_md(r.legal_basis)} "
                f"| {_md(r.description)} |"
            )
        yield ""

    return "\n".join(lines())
