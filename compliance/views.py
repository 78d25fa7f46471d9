"""What data-protection officers and applicants see of the audit trail (no HTTP).

Every query that returns personal data is scoped here, in one place: a DPO sees the entries
of their authority's actors (the operator's DPO sees all); an applicant sees the entries
about themselves whose disclosure date has passed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from commons.errors import InvalidInput
from commons.paging import decode_cursor, encode_cursor
from compliance import merkle
from compliance.leaf import format_time
from compliance.models import AccessEntry, AccessPersonal, Checkpoint
from compliance.register import ActionType
from compliance.service import ENTRY_COLUMNS, DbNodeSource, leaf_data

OPERATOR = "operator"
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class EntryFilter:
    data_subject: str | None = None
    actor: str | None = None
    authority: str | None = None
    action: str | None = None
    purpose: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    entry: AccessEntry
    personal: AccessPersonal | None


def sees_every_authority(scope: str | None) -> bool:
    """Whether a DPO with this authority scope sees every authority's entries (the
    operator's DPO)."""
    return scope is None or scope == OPERATOR


def _base(scope: str | None) -> Any:
    stmt = select(AccessEntry, AccessPersonal).outerjoin(
        AccessPersonal, AccessPersonal.entry_id == AccessEntry.id
    )
    if scope is not None and scope != OPERATOR:
        stmt = stmt.where(AccessEntry.actor_authority == scope)
    return stmt


def filtered(stmt: Any, f: EntryFilter) -> Any:
    """``stmt`` (over entries outer-joined to their personal part) narrowed by ``f``."""
    if f.data_subject is not None:
        stmt = stmt.where(AccessPersonal.data_subject == f.data_subject)
    if f.actor is not None:
        stmt = stmt.where(
            or_(AccessPersonal.actor_subject == f.actor, AccessEntry.actor_client_id == f.actor)
        )
    if f.authority is not None:
        stmt = stmt.where(AccessEntry.actor_authority == f.authority)
    if f.action is not None:
        stmt = stmt.where(AccessEntry.action == f.action)
    if f.purpose is not None:
        stmt = stmt.where(AccessEntry.purpose == f.purpose)
    if f.since is not None:
        stmt = stmt.where(AccessEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AccessEntry.at < f.until)
    if f.outcome is not None:
        stmt = stmt.where(AccessEntry.outcome == f.outcome)
    return stmt


def _page(
    session: Session, stmt: Any, limit: int, cursor: str | None
) -> tuple[list[Row], str | None]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    if cursor:
        at, entry_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(AccessEntry.at < at, and_(AccessEntry.at == at, AccessEntry.id < entry_id))
        )
    stmt = stmt.order_by(AccessEntry.at.desc(), AccessEntry.id.desc()).limit(limit + 1)
    rows = [Row(e, p) for e, p in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1].entry.at, rows[-1].entry.id) if more and rows else None)


def dpo_query(
    session: Session,
    scope: str | None,
    f: EntryFilter,
    *,
    limit: int = 100,
    cursor: str | None = None,
) -> tuple[list[Row], str | None]:
    return _page(session, filtered(_base(scope), f), limit, cursor)


EXPORT_BATCH = 2_000


def dpo_batches(
    session: Session, scope: str | None, f: EntryFilter, *, batch: int | None = None
) -> Iterator[list[Row]]:
    """Every matching entry, oldest first, in batches of ``batch`` (default
    :data:`EXPORT_BATCH`): keyset pagination, so nothing is capped and memory is bounded by
    the batch however many entries match."""
    batch = batch or EXPORT_BATCH
    stmt = filtered(_base(scope), f).order_by(AccessEntry.at, AccessEntry.id).limit(batch)
    page = stmt
    while True:
        rows = [Row(e, p) for e, p in session.execute(page)]
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1].entry
        page = stmt.where(
            or_(AccessEntry.at > last.at, and_(AccessEntry.at == last.at, AccessEntry.id > last.id))
        )


def dpo_summary(session: Session, scope: str | None, f: EntryFilter) -> list[dict[str, Any]]:
    """Access counts per actor, action and outcome, largest first, so an outlier (an actor
    with many ``denied`` entries) stands out."""
    stmt: Any = (
        select(
            AccessPersonal.actor_subject,
            AccessEntry.actor_role,
            AccessEntry.actor_authority,
            AccessEntry.action,
            AccessEntry.outcome,
            func.count().label("n"),
        )
        .select_from(AccessEntry)
        .outerjoin(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
    )
    if scope is not None and scope != OPERATOR:
        stmt = stmt.where(AccessEntry.actor_authority == scope)
    stmt = filtered(stmt, f).group_by(
        AccessPersonal.actor_subject,
        AccessEntry.actor_role,
        AccessEntry.actor_authority,
        AccessEntry.action,
        AccessEntry.outcome,
    )
    rows = session.execute(stmt).all()
    out = [
        {"actor": a, "role": r, "authority": auth, "action": act, "outcome": o, "count": n}
        for a, r, auth, act, o, n in rows
    ]
    out.sort(key=lambda x: (-int(x["count"]), str(x["actor"] or ""), str(x["action"])))
    return out


def applicant_entries(
    session: Session, subject: str, now: datetime, *, limit: int = 50, cursor: str | None = None
) -> tuple[list[Row], str | None]:
    stmt: Any = (
        select(AccessEntry, AccessPersonal)
        .join(AccessPersonal, AccessPersonal.entry_id == AccessEntry.id)
        .where(AccessPersonal.data_subject == subject)
        .where(or_(AccessEntry.disclosed_after.is_(None), AccessEntry.disclosed_after <= now))
    )
    return _page(session, stmt, limit, cursor)


def proofs_for(
    session: Session, indexes: Sequence[int], checkpoint: Checkpoint | None
) -> dict[int, list[bytes]]:
    """Inclusion proofs of several leaves at ``checkpoint``, fetched in one query."""
    if checkpoint is None:
        return {}
    wanted = [i for i in indexes if i < checkpoint.size]
    ranges = [merkle.inclusion_ranges(i, checkpoint.size) for i in wanted]
    flat = merkle.hash_ranges([r for rs in ranges for r in rs], DbNodeSource(session))
    out: dict[int, list[bytes]] = {}
    pos = 0
    for i, rs in zip(wanted, ranges, strict=True):
        out[i] = flat[pos : pos + len(rs)]
        pos += len(rs)
    return out


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


CSV_COLUMNS = (
    *ENTRY_COLUMNS,
    "leaf_index",
    "leaf",
    "shredded",
    "data_subject",
    "actor_subject",
    "resource",
    "salt",
)
"""The CSV export's columns: :func:`entry_json`'s fields without the proof."""


def entry_json(row: Row, proof: list[bytes] | None, *, personal: bool = True) -> dict[str, Any]:
    e, p = row.entry, row.personal
    out: dict[str, Any] = {
        "id": e.id,
        "at": format_time(e.at),
        "request_id": e.request_id,
        "actor_role": e.actor_role,
        "actor_authority": e.actor_authority,
        "actor_client_id": e.actor_client_id,
        "action": e.action,
        "purpose": e.purpose,
        "legal_basis": e.legal_basis,
        "outcome": e.outcome,
        "disclosed_after": format_time(e.disclosed_after) if e.disclosed_after else None,
        "commitment": e.commitment.hex(),
        "leaf_index": e.leaf_index,
        "leaf": b64(leaf_data(e).encode()),
        "inclusion_proof": [b64(h) for h in proof] if proof is not None else None,
    }
    if personal:
        out["shredded"] = p is None
        out["data_subject"] = p.data_subject if p else None
        out["actor_subject"] = p.actor_subject if p else None
        out["resource"] = p.resource if p else None
        out["salt"] = p.salt.hex() if p else None
    return out


YOU = "you"
"""``who`` of the applicant's own actions in their access log (the portal and the command
line show it as "you" / "Sie")."""
SYSTEM = "ozg-commons"
"""``who`` of what neither an authority nor a client did: the operator's own system."""


def actor_name(actor_role: str, actor_authority: str | None, actor_client_id: str | None) -> str:
    """Who did it, as the applicant's access log names them: :data:`YOU` for the applicant's
    own actions, else the authority, the client or :data:`SYSTEM`. Only fields of the
    entry's leaf decide, so a device can check it against the verified leaf."""
    if actor_role == "applicant":
        return YOU
    return actor_authority or actor_client_id or SYSTEM


def plain_language(
    row: Row, actions: Mapping[str, ActionType], proof: list[bytes] | None
) -> dict[str, Any]:
    """One entry of the applicant's access log, in German and English."""
    e = row.entry
    kind = actions.get(e.action)
    who = actor_name(e.actor_role, e.actor_authority, e.actor_client_id)
    outcome_en = {"success": "done", "denied": "refused", "error": "failed"}.get(
        e.outcome, e.outcome
    )
    outcome_de = {"success": "erfolgt", "denied": "abgelehnt", "error": "fehlgeschlagen"}.get(
        e.outcome, e.outcome
    )
    return {
        "at": format_time(e.at),
        "who": who,
        "role": e.actor_role,
        "data_category": kind.data_category if kind else "personal data",
        "what": {
            "en": kind.description_en if kind else f"Access to your data ({e.action})",
            "de": kind.description_de if kind else f"Zugriff auf Ihre Daten ({e.action})",
        },
        "why": {"purpose": e.purpose, "legal_basis": e.legal_basis},
        "outcome": {"code": e.outcome, "en": outcome_en, "de": outcome_de},
        "action": e.action,
        "document_id": _document_id(row, kind),
        "leaf_index": e.leaf_index,
        "leaf": b64(leaf_data(e).encode()),
        "inclusion_proof": [b64(h) for h in proof] if proof is not None else None,
    }


def _document_id(row: Row, kind: ActionType | None) -> str | None:
    """The vault document an entry is about (the subject's own id, from the personal part;
    gone once that is shredded), for actions whose resource is a document."""
    if kind is None or kind.resource_kind != "document" or row.personal is None:
        return None
    return row.personal.resource
