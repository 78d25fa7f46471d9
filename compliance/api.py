"""HTTP routes of the compliance domain: thin handlers over the service and views.

Authentication: compliance sits below ``account`` and cannot use its principal. Handlers
depend on :func:`caller`, which returns a compliance-owned :class:`AuditCaller`; the default
refuses everyone, and the gateway overrides it with an adapter over ``account.auth``
(``gateway/auth_bridge.py``). The log's own read endpoints (checkpoint, proofs, key) are
public: they reveal only hashes.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from commons.clock import Clock, system_clock
from commons.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from commons.settings import Settings
from commons.web import DbSession
from compliance import note, service, views
from compliance.declarations import ActionType
from compliance.keys import LogIdentity, load_identity
from compliance.models import Checkpoint, Cosignature
from compliance.recorder import AccessEvent, Actor, record_access
from compliance.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    CosignatureIn,
    CosignatureOut,
    InclusionProofOut,
    LeafOut,
    LeavesOut,
    LogKeyOut,
)

router = APIRouter(tags=["compliance"])

DPO_ROLE = "dpo"
FLOW_ROLE = "flow"  # a permit flow's service client: never a data subject
MAX_LEAVES = 1000


@dataclass(frozen=True, slots=True)
class AuditCaller:
    """The authenticated caller, as compliance needs it."""

    subject: str
    roles: frozenset[str]
    authority: str | None
    actor: Actor


def caller() -> AuditCaller:
    """Replaced by the gateway (``app.dependency_overrides``); refuses if it was not."""
    raise Unauthorized("no authentication is configured", headers={"WWW-Authenticate": "Bearer"})


Caller = Annotated[AuditCaller, Depends(caller)]


def _dpo(who: Caller) -> AuditCaller:
    if DPO_ROLE not in who.roles:
        raise Forbidden("this operation needs the role: dpo")
    return who


Dpo = Annotated[AuditCaller, Depends(_dpo)]


def _person(who: Caller) -> AuditCaller:
    """A person who can be a data subject: flow clients have no access log of their own."""
    if FLOW_ROLE in who.roles:
        raise Forbidden("flow clients have no access log")
    return who


Person = Annotated[AuditCaller, Depends(_person)]


@dataclass(frozen=True, slots=True)
class AuditState:
    identity: LogIdentity
    actions: Mapping[str, ActionType]
    clock: Clock


def configure(app: FastAPI, settings: Settings, actions: tuple[ActionType, ...] = ()) -> None:
    """Load the log's identity and the action registry into ``app.state``."""
    app.state.audit = AuditState(
        identity=load_identity(settings),
        actions={a.name: a for a in actions},
        clock=system_clock,
    )


def _state(request: Request) -> AuditState:
    state: AuditState = request.app.state.audit
    return state


State = Annotated[AuditState, Depends(_state)]


# --------------------------------------------------------------------------- the log
def _checkpoint_out(
    session: DbSession, state: AuditState, size: int | None = None
) -> CheckpointOut:
    cp = (
        service.latest_checkpoint(session) if size is None else service.checkpoint_at(session, size)
    )
    if cp is None:
        raise NotFound("no checkpoint has been published yet")
    cosigs = service.cosignatures(session, cp.size)
    return CheckpointOut(
        origin=state.identity.origin,
        size=cp.size,
        root=views.b64(cp.root),
        checkpoint=cp.note,
        cosignatures=[
            CosignatureOut(key_name=c.key_name, verifier_key=c.verifier_key, line=c.line)
            for c in cosigs
        ],
        checkpoint_with_cosignatures=cp.note + "".join(c.line for c in cosigs),
    )


@router.get("/audit/checkpoint", response_model=CheckpointOut)
def get_latest_checkpoint(session: DbSession, state: State) -> CheckpointOut:
    return _checkpoint_out(session, state)


@router.get("/audit/checkpoints/{size}", response_model=CheckpointOut)
def get_checkpoint(session: DbSession, state: State, size: int) -> CheckpointOut:
    return _checkpoint_out(session, state, size)


@router.get("/audit/log-key", response_model=LogKeyOut)
def get_log_key(state: State) -> LogKeyOut:
    return LogKeyOut(
        origin=state.identity.origin,
        verifier_key=state.identity.signer.verifier_key,
        witness_keys=[w.to_string() for w in state.identity.witnesses],
    )


@router.get("/audit/proofs/inclusion", response_model=InclusionProofOut)
def get_inclusion_proof(
    session: DbSession, index: Annotated[int, Query(ge=0)], size: Annotated[int, Query(ge=1)]
) -> InclusionProofOut:
    proof = service.inclusion_proof(session, index, size)
    return InclusionProofOut(index=index, size=size, proof=[views.b64(h) for h in proof])


@router.get("/audit/proofs/consistency", response_model=ConsistencyProofOut)
def get_consistency_proof(
    session: DbSession, size1: Annotated[int, Query(ge=0)], size2: Annotated[int, Query(ge=0)]
) -> ConsistencyProofOut:
    proof = service.consistency_proof(session, size1, size2)
    return ConsistencyProofOut(size1=size1, size2=size2, proof=[views.b64(h) for h in proof])


@router.get("/audit/leaves", response_model=LeavesOut)
def get_leaves(
    session: DbSession,
    _who: Dpo,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
) -> LeavesOut:
    """Leaf data (no personal data: see docs/audit-log.md) for ``[start, end)``; DPO only."""
    if not start < end <= start + MAX_LEAVES:
        raise InvalidInput(f"need start < end <= start + {MAX_LEAVES}")
    entries = service.entries_by_index(session, start, end)
    return LeavesOut(
        start=start,
        end=end,
        leaves=[
            LeafOut(index=index, leaf=views.b64(service.leaf_data(e).encode()))
            for index, e in entries
        ],
    )


@router.post("/audit/checkpoints/{size}/cosignatures", response_model=CosignatureOut)
def add_witness_cosignature(
    session: DbSession, state: State, size: int, body: CosignatureIn
) -> CosignatureOut:
    """Store a co-signature by a configured witness key (the signature authenticates it)."""
    return _store_cosignature(
        session, state, size, body.signature_line, state.identity.witnesses, "witness"
    )


@router.post("/audit/checkpoints/{size}/dpo-cosignatures", response_model=CosignatureOut)
def add_dpo_cosignature(
    session: DbSession, state: State, who: Dpo, size: int, body: CosignatureIn
) -> CosignatureOut:
    """Store a DPO's co-signature made with a key of their own (``verifier_key``)."""
    if body.verifier_key is None:
        raise InvalidInput("verifier_key is required")
    try:
        verifier = note.Verifier.from_string(body.verifier_key)
    except ValueError:
        raise InvalidInput("not a verifier key") from None
    return _store_cosignature(
        session, state, size, body.signature_line, (verifier,), f"dpo:{who.authority}"
    )


def _store_cosignature(
    session: DbSession,
    state: AuditState,
    size: int,
    signature_line: str,
    keys: tuple[note.Verifier, ...],
    submitted_by: str,
) -> CosignatureOut:
    cp = service.checkpoint_at(session, size)
    text = note.split_note(cp.note)[0]
    try:
        line = note.parse_signature_line(signature_line.rstrip("\n") + "\n")
    except note.InvalidNote:
        raise InvalidInput("not a signature line") from None
    accepted = next(
        (
            k
            for k in keys
            if k.name == line.name
            and k.key_hash == line.key_hash
            and k.name != state.identity.origin
            and k.verifies(text, line.signature)
        ),
        None,
    )
    if accepted is None:
        raise InvalidInput("the signature does not verify with a key this log accepts")
    existing = session.get(Cosignature, (size, line.name))
    if existing is not None:
        session.delete(existing)
        session.flush()
    cosig = Cosignature(
        checkpoint_size=size,
        key_name=line.name,
        verifier_key=accepted.to_string(),
        line=line.line,
        submitted_by=submitted_by,
        created_at=state.clock.now(),
    )
    session.add(cosig)
    session.flush()
    return CosignatureOut(key_name=cosig.key_name, verifier_key=cosig.verifier_key, line=cosig.line)


# --------------------------------------------------------------------------- DPO views
def _filter(
    data_subject: str | None = None,
    actor: str | None = None,
    authority: str | None = None,
    action: str | None = None,
    purpose: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> views.EntryFilter:
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise InvalidInput("times need a zone, e.g. 2026-11-28T12:00:00Z")
    return views.EntryFilter(data_subject, actor, authority, action, purpose, since, until)


Filter = Annotated[views.EntryFilter, Depends(_filter)]


def _record_dpo(session: DbSession, who: AuditCaller, verb: str, f: views.EntryFilter) -> None:
    record_access(
        session,
        AccessEvent(
            actor=who.actor,
            data_subject=f.data_subject,
            action=f"compliance.audit_log.{verb}",
            resource="audit-log",
            purpose="data-protection audit",
            legal_basis="Art. 5(2), 30, 39 GDPR",
        ),
    )


@router.get("/audit/entries")
def list_entries(
    session: DbSession,
    who: Dpo,
    f: Filter,
    limit: Annotated[int, Query(ge=1, le=views.MAX_PAGE)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows, next_cursor = views.dpo_query(session, who.authority, f, limit=limit, cursor=cursor)
    _record_dpo(session, who, "read", f)
    return {"entries": [views.entry_json(r, None) for r in rows], "next_cursor": next_cursor}


@router.get("/audit/summary")
def summary(session: DbSession, who: Dpo, f: Filter) -> dict[str, Any]:
    counts = views.dpo_summary(session, who.authority, f)
    _record_dpo(session, who, "summarise", f)
    return {"counts": counts}


@router.get("/audit/export")
def export(
    session: DbSession,
    state: State,
    who: Dpo,
    f: Filter,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Every matching entry, with the checkpoint it was taken under and (JSON) its proof.

    The export is written batch by batch to a spooled temporary file (memory stays bounded
    however many entries match; nothing is capped) and streamed from there.
    """
    checkpoint = service.latest_checkpoint(session)
    cp_note = checkpoint.note if checkpoint else None
    out = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # closed by chunks()
    try:
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        if format == "json":
            head = {
                "format": "ozg-audit-export/v1",
                "verifier_key": state.identity.signer.verifier_key,
                "checkpoint": cp_note,
            }
            text.write(json.dumps(head)[:-1] + ', "entries": [')
            separator = "\n"
            for entry in _export_entries(session, who, f, checkpoint):
                text.write(separator + json.dumps(entry))
                separator = ",\n"
            text.write("\n]}\n")
            media_type, headers = "application/json", {}
        else:
            size = checkpoint.size if checkpoint else 0
            writer = csv.DictWriter(text, fieldnames=[*views.CSV_COLUMNS, "checkpoint_size"])
            writer.writeheader()
            for entry in _export_entries(session, who, f, checkpoint):
                del entry["inclusion_proof"]
                writer.writerow({**entry, "checkpoint_size": size})
            media_type = "text/csv; charset=utf-8"
            headers = {"Audit-Checkpoint": views.b64(cp_note.encode()) if cp_note else ""}
        text.flush()
        text.detach()
        out.seek(0)
    except BaseException:
        out.close()
        raise
    _record_dpo(session, who, "export", f)  # same transaction: fails the export if it fails

    def chunks() -> Iterator[bytes]:
        with out:
            while block := out.read(64 * 1024):
                yield block

    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def _export_entries(
    session: Session, who: AuditCaller, f: views.EntryFilter, checkpoint: Checkpoint | None
) -> Iterator[dict[str, Any]]:
    for rows in views.dpo_batches(session, who.authority, f):
        indexes = [r.entry.leaf_index for r in rows if r.entry.leaf_index is not None]
        proofs = views.proofs_for(session, indexes, checkpoint)
        for r in rows:
            index = r.entry.leaf_index
            yield views.entry_json(r, proofs.get(index) if index is not None else None)


# --------------------------------------------------------------------------- applicant
@router.get("/me/access-log")
def my_access_log(
    session: DbSession,
    state: State,
    who: Person,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Who accessed my data, when and why, newest first, each with its inclusion proof."""
    now = state.clock.now()
    rows, next_cursor = views.applicant_entries(
        session, who.subject, now, limit=limit, cursor=cursor
    )
    checkpoint = service.latest_checkpoint(session)
    proofs = views.proofs_for(
        session, [r.entry.leaf_index for r in rows if r.entry.leaf_index is not None], checkpoint
    )
    entries = [
        views.plain_language(
            r,
            state.actions,
            proofs.get(r.entry.leaf_index) if r.entry.leaf_index is not None else None,
        )
        for r in rows
    ]
    return {
        "checkpoint": checkpoint.note if checkpoint else None,
        "verifier_key": state.identity.signer.verifier_key,
        "entries": entries,
        "next_cursor": next_cursor,
    }
