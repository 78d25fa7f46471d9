"""HTTP routes of the compliance domain: thin handlers over the service, the views, the
co-signatures (``cosign.py``) and the export writer (``export.py``); the per-app state they
read (``app.state.audit``) is built by :func:`compliance.runtime.configure`.

Authentication: compliance sits below ``account`` and cannot use its principal. Handlers
depend on :func:`caller`, which returns a compliance-owned :class:`AuditCaller` from the
:class:`CallerSource` that the authenticating component puts in ``app.state.audit_callers``
(the account's: ``account.auth.AUDIT_CALLERS``); without one, everyone is refused. The log's
own read endpoints (checkpoint, proofs, key) are public: they reveal only hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.orm import Session

from commons.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from commons.i18n import N_
from commons.text import DateTime, Identifier, Int64
from commons.web import DbSession, authenticates_first, resolve_dependency
from compliance import cosign, patterns, service, views
from compliance.export import ExportFormat, write_export
from compliance.models import Cosignature
from compliance.recorder import AccessEvent, Actor, Outcome, record_access
from compliance.runtime import AuditState
from compliance.schemas import (
    CheckpointListOut,
    CheckpointOut,
    CheckpointRef,
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
MAX_CHECKPOINTS = 100


@dataclass(frozen=True, slots=True)
class AuditCaller:
    """The authenticated caller, as compliance needs it."""

    subject: str
    roles: frozenset[str]
    authority: str | None
    actor: Actor


@dataclass(frozen=True, slots=True)
class CallerSource:
    """How the app authenticates compliance's callers: ``authenticate`` is a FastAPI
    dependency that returns the request's principal (resolved with the app's dependency
    overrides); ``caller`` applies the rules that hold for every request (in the request's
    unit of work) and makes the :class:`AuditCaller` of that principal."""

    authenticate: Callable[..., Any]
    caller: Callable[[Request, Session, Any], AuditCaller]


def _source(request: Request) -> CallerSource:
    source = getattr(request.app.state, "audit_callers", None)
    if not isinstance(source, CallerSource):
        raise Unauthorized(
            N_("no authentication is configured"), headers={"WWW-Authenticate": "Bearer"}
        )
    return source


@authenticates_first
async def _principal(request: Request) -> Any:
    """The principal (the edge resolves it before a body is read, as for every route)."""
    return await resolve_dependency(request, _source(request).authenticate)


def caller(
    request: Request, session: DbSession, principal: Annotated[Any, Depends(_principal)]
) -> AuditCaller:
    """The authenticated caller, or a refusal (see the module text)."""
    return _source(request).caller(request, session, principal)


Caller = Annotated[AuditCaller, Depends(caller)]


def _dpo(who: Caller) -> AuditCaller:
    if DPO_ROLE not in who.roles:
        raise Forbidden(N_("this operation needs the role: dpo"))
    return who


Dpo = Annotated[AuditCaller, Depends(_dpo)]


def _person(who: Caller) -> AuditCaller:
    """A person who can be a data subject: flow clients have no access log of their own."""
    if FLOW_ROLE in who.roles:
        raise Forbidden(N_("flow clients have no access log"))
    return who


Person = Annotated[AuditCaller, Depends(_person)]


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
        raise NotFound(N_("no checkpoint has been published yet"))
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


@router.get("/audit/checkpoints", response_model=CheckpointListOut)
def list_checkpoints(
    session: DbSession,
    limit: Annotated[Int64, Query(ge=1, le=MAX_CHECKPOINTS)] = 20,
    before: Annotated[Int64 | None, Query(ge=1)] = None,
) -> CheckpointListOut:
    """The published checkpoints' sizes and roots, newest first (``before``: only smaller
    sizes), so a verifier can check consistency between them."""
    rows = service.checkpoints(session, limit=limit, before=before)
    return CheckpointListOut(
        checkpoints=[
            CheckpointRef(size=c.size, root=views.b64(c.root), created_at=c.created_at)
            for c in rows
        ],
        next_before=rows[-1].size if len(rows) == limit and rows[-1].size > 1 else None,
    )


@router.get("/audit/checkpoints/{size}", response_model=CheckpointOut)
def get_checkpoint(session: DbSession, state: State, size: Int64) -> CheckpointOut:
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
    session: DbSession, index: Annotated[Int64, Query()], size: Annotated[Int64, Query(ge=1)]
) -> InclusionProofOut:
    proof = service.inclusion_proof(session, index, size)
    return InclusionProofOut(index=index, size=size, proof=[views.b64(h) for h in proof])


@router.get("/audit/proofs/consistency", response_model=ConsistencyProofOut)
def get_consistency_proof(
    session: DbSession, size1: Annotated[Int64, Query()], size2: Annotated[Int64, Query()]
) -> ConsistencyProofOut:
    proof = service.consistency_proof(session, size1, size2)
    return ConsistencyProofOut(size1=size1, size2=size2, proof=[views.b64(h) for h in proof])


@router.get("/audit/leaves", response_model=LeavesOut)
def get_leaves(
    session: DbSession,
    who: Dpo,
    start: Annotated[Int64, Query()],
    end: Annotated[Int64, Query(ge=1)],
) -> LeavesOut:
    """Leaf data (no personal data: see docs/audit-log.md) for ``[start, end)``; DPO only.

    A DPO bound to one authority gets only the leaves of that authority's actors (the other
    indexes are left out); the operator's DPO gets every leaf. Proofs and checkpoints, which
    hold only hashes, stay public."""
    if not start < end <= start + MAX_LEAVES:
        raise InvalidInput(f"need start < end <= start + {MAX_LEAVES}")
    entries = service.entries_by_index(session, start, end)
    if not views.sees_every_authority(who.authority):
        entries = [(i, e) for i, e in entries if e.actor_authority == who.authority]
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
    session: DbSession, state: State, size: Int64, body: CosignatureIn
) -> CosignatureOut:
    """Store a co-signature by a configured witness key (the signature authenticates it)."""
    cosig = cosign.store_cosignature(
        session,
        state.identity,
        size,
        body.signature_line,
        state.identity.witnesses,
        "witness",
        clock=state.clock,
    )
    return _cosignature_out(cosig)


@router.post("/audit/checkpoints/{size}/dpo-cosignatures", response_model=CosignatureOut)
def add_dpo_cosignature(
    session: DbSession, state: State, who: Dpo, size: Int64, body: CosignatureIn
) -> CosignatureOut:
    """Store a DPO's co-signature made with a key of their own (``verifier_key``)."""
    verifier = cosign.dpo_verifier(body.verifier_key)
    cosig = cosign.store_cosignature(
        session,
        state.identity,
        size,
        body.signature_line,
        (verifier,),
        f"dpo:{who.authority}",
        clock=state.clock,
    )
    return _cosignature_out(cosig)


def _cosignature_out(cosig: Cosignature) -> CosignatureOut:
    return CosignatureOut(key_name=cosig.key_name, verifier_key=cosig.verifier_key, line=cosig.line)


# --------------------------------------------------------------------------- DPO views
_SINCE = "Entries at or after this time: an RFC 3339 date-time with offset, 2026-11-28T12:00:00Z."
_UNTIL = "Entries before this time: an RFC 3339 date-time with offset, 2026-11-28T12:00:00Z."


def _filter(
    data_subject: Identifier | None = None,
    actor: Identifier | None = None,
    authority: Identifier | None = None,
    action: Identifier | None = None,
    purpose: Identifier | None = None,
    since: Annotated[DateTime | None, Query(description=_SINCE)] = None,
    until: Annotated[DateTime | None, Query(description=_UNTIL)] = None,
    outcome: Outcome | None = None,
) -> views.EntryFilter:
    return views.EntryFilter(data_subject, actor, authority, action, purpose, since, until, outcome)


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
    limit: Annotated[Int64, Query(ge=1, le=views.MAX_PAGE)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    rows, next_cursor = views.dpo_query(session, who.authority, f, limit=limit, cursor=cursor)
    _record_dpo(session, who, "read", f)
    return {"entries": [views.entry_json(r, None) for r in rows], "next_cursor": next_cursor}


@router.get("/audit/summary")
def summary(
    session: DbSession,
    who: Dpo,
    f: Filter,
    office_hours: Annotated[str, Query(max_length=20)] = patterns.DEFAULT_OFFICE_HOURS,
    timezone: Annotated[str, Query(max_length=64)] = patterns.DEFAULT_TIMEZONE,
    factor: Annotated[float, Query(gt=1, le=100)] = patterns.DEFAULT_FACTOR,
) -> dict[str, Any]:
    """Counts per actor, action and outcome, and the unusual patterns of
    ``compliance/patterns.py`` under the given rules."""
    rules = patterns.Rules(factor, patterns.OfficeHours.parse(office_hours, timezone))
    counts = views.dpo_summary(session, who.authority, f)
    unusual = patterns.unusual(session, who.authority, f, rules)
    _record_dpo(session, who, "summarise", f)
    return {"counts": counts, "unusual": unusual}


@router.get("/audit/export")
def export(
    session: DbSession,
    state: State,
    who: Dpo,
    f: Filter,
    format: ExportFormat = "json",
) -> Response:
    """Every matching entry, with the checkpoint it was taken under and (JSON) its proof,
    streamed from a spooled file (see ``compliance/export.py``)."""
    written = write_export(
        session,
        verifier_key=state.identity.signer.verifier_key,
        authority=who.authority,
        entry_filter=f,
        format=format,
    )
    try:
        _record_dpo(session, who, "export", f)  # same transaction: fails the export if it fails
    except BaseException:
        written.close()
        raise
    return StreamingResponse(
        written.chunks(), media_type=written.media_type, headers=written.headers
    )


# --------------------------------------------------------------------------- applicant
@router.get("/me/access-log")
def my_access_log(
    session: DbSession,
    state: State,
    who: Person,
    limit: Annotated[Int64, Query(ge=1, le=200)] = 50,
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
