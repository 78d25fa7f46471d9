"""FIT-Connect Submission API v1, served under ``/fit-connect/v1`` (thin: the logic is in
:mod:`gateway.delivery.service`), plus ``GET /fit-connect/.well-known/jwks.json``.

The attachment upload manages its own units of work: the body is spooled (streaming,
bounded), checked, stored in the object store, and only then does a short transaction
record it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Annotated, Any, BinaryIO, TypeVar, cast

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from account import Principal, Scope, ScopeGuard, StreamingPrincipal, require_scope
from commons.db import Database
from commons.ids import new_id_str
from commons.settings import Settings
from commons.text import Int64, decimal_int
from commons.web import DbSession, upload_body
from gateway.delivery import jose, service, timers
from gateway.delivery.errors import (
    AttachmentNotFound,
    SubmissionNotFound,
    TooLarge,
    UnknownDestination,
    UnsupportedMediaType,
)
from gateway.delivery.models import Submission
from gateway.delivery.runtime import DeliveryRuntime, DeliverySettings, delivery_store
from gateway.delivery.schemas import CreateSubmission, SubmitSubmission, canonical_uuid
from gateway.problems import problem_response
from vault import BlobNotFound, BlobStore, spool_for

log = logging.getLogger("ozg.delivery")

BASE_PATH = "/fit-connect"
JOSE = "application/jose"
T = TypeVar("T")

router = APIRouter(tags=["fit-connect"])


class _StreamingScopeGuard(ScopeGuard):
    """The scope guard for the streaming upload (no request unit of work)."""

    async def __call__(self, principal: StreamingPrincipal, request: Request) -> Principal:
        return self.admit(principal, request)


Sender = Annotated[Principal, Depends(require_scope(Scope.SUBMISSIONS_WRITE))]
StreamingSender = Annotated[Principal, Depends(_StreamingScopeGuard(Scope.SUBMISSIONS_WRITE))]
Reader = Annotated[Principal, Depends(require_scope(Scope.SUBMISSIONS_READ))]


def configure(app: FastAPI, settings: Settings, store: BlobStore | None = None) -> None:
    """Per-app delivery state on ``app.state.delivery`` and the routes under
    ``/fit-connect`` (not ``/v1``: FIT-Connect clients expect ``<base>/v1/...``)."""
    app.state.delivery = DeliveryRuntime(
        settings=settings,
        config=settings.section(DeliverySettings),
        store=store or delivery_store(settings),
        app_state=app.state,
    )
    app.include_router(router, prefix=BASE_PATH)


def runtime_of(request: Request) -> DeliveryRuntime:
    runtime: DeliveryRuntime = request.app.state.delivery
    return runtime


def _not_found(exc: SubmissionNotFound) -> JSONResponse:
    return problem_response(exc.status, title=exc.title, detail=exc.detail, type_uri=exc.type_uri)


def _in_transaction(database: Database, work: Callable[[Any], T]) -> T:
    """Run ``work(session)`` in its own unit of work; a denied access is committed (its
    audit entry stays) before the 404 is raised."""
    denied: service.Denied | None = None
    with database.transaction() as session:
        try:
            return work(session)
        except service.Denied as exc:
            denied = exc
    raise denied


# --------------------------------------------------------------------------- destinations
def _destination_json(destination: Any) -> dict[str, Any]:
    return {
        "destinationId": destination.destination_id,
        "status": "active",
        "services": [
            {
                "identifier": s.identifier,
                "submissionSchemas": [dict(x) for x in s.submission_schemas],
                "regions": list(s.regions),
            }
            for s in destination.services
        ],
        "encryptionKid": destination.encryption_kid,
        "metadataVersions": list(destination.metadata_versions),
        "replyChannels": {channel: {} for channel in destination.reply_channels},
    }


def _destination(request: Request, destination_id: str) -> Any:
    directory = runtime_of(request).destinations()
    try:
        return directory.get(canonical_uuid(destination_id))
    except ValueError:
        raise UnknownDestination(sorted(d.destination_id for d in directory.all())) from None


@router.get("/v1/destinations/{destination_id}", summary="Public information of a destination")
def get_destination(destination_id: str, request: Request) -> dict[str, Any]:
    return _destination_json(_destination(request, destination_id))


@router.get(
    "/v1/destinations/{destination_id}/keys/{kid}",
    summary="A destination's public key (encryption or event signature) by kid",
)
def get_destination_key(destination_id: str, kid: str, request: Request) -> dict[str, Any]:
    jwk = _destination(request, destination_id).public_key(kid)
    if jwk is None:
        from gateway.delivery.errors import KeyNotFound

        raise KeyNotFound()
    return dict(jwk)


@router.get("/.well-known/jwks.json", summary="The delivery service's event-signing keys")
def jwks(request: Request) -> dict[str, Any]:
    identity = runtime_of(request).signing()
    return {"keys": [identity.jwk]}


# --------------------------------------------------------------------------- sending
def _created(submission: Submission) -> dict[str, str]:
    return {
        "destinationId": submission.destination_id,
        "submissionId": submission.id,
        "caseId": submission.case_id,
    }


@router.post("/v1/submissions", status_code=201, summary="Announce a submission")
def create_submission(
    body: CreateSubmission, request: Request, session: DbSession, principal: Sender
) -> dict[str, str]:
    submission = service.create_submission(session, runtime_of(request), principal, body)
    return _created(submission)


@router.put(
    "/v1/submissions/{submission_id}/attachments/{attachment_id}",
    status_code=204,
    summary="Upload an attachment (application/jose: a JWE compact serialization)",
    openapi_extra=upload_body(),
)
async def upload_attachment(
    submission_id: str, attachment_id: str, request: Request, principal: StreamingSender
) -> Response:
    runtime = runtime_of(request)
    database: Database = request.app.state.database
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != JOSE:
        raise UnsupportedMediaType("attachments are uploaded as application/jose")
    limit = runtime.config.max_attachment_bytes
    announced = decimal_int(request.headers.get("content-length", ""))
    if announced is not None and announced > limit:
        raise TooLarge("the attachment exceeds its size limit", limit=limit)
    submission, destination, key = await run_in_threadpool(
        _in_transaction,
        database,
        lambda s: service.check_upload(s, runtime, principal, submission_id, attachment_id),
    )
    digest = hashlib.sha512()  # the submission receipt's hash of this JWE
    with spool_for(runtime.store) as spool:
        size = 0
        async for block in request.stream():
            size += len(block)
            if size > limit:
                raise TooLarge("the attachment exceeds its size limit", limit=limit)
            digest.update(block)
            await run_in_threadpool(spool.write, block)
        spool.flush()
        spool.seek(0)
        inspected = await run_in_threadpool(
            jose.inspect_stream,
            cast(BinaryIO, spool),
            kid=destination.encryption_kid,
            modulus_bytes=service.modulus_bytes(destination),
        )
        service.check_manifest_size(submission, key, inspected)
        blob_key = new_id_str(runtime.clock)
        spool.seek(0)
        await run_in_threadpool(runtime.store.put, blob_key, spool, size)

    def commit(session: Any) -> None:
        service.add_attachment(
            session,
            runtime,
            principal,
            submission_id,
            attachment_id,
            blob_key=blob_key,
            size=size,
            tag=inspected.tag,
            sha512=digest.hexdigest(),
        )

    try:
        await run_in_threadpool(_in_transaction, database, commit)
    except Exception:
        await run_in_threadpool(runtime.store.delete, blob_key)
        raise
    return Response(status_code=204)


@router.put("/v1/submissions/{submission_id}", status_code=202, summary="Submit")
def submit_submission(
    submission_id: str,
    body: SubmitSubmission,
    request: Request,
    session: DbSession,
    principal: Sender,
    background: BackgroundTasks,
) -> Any:
    runtime = runtime_of(request)
    try:
        submission = service.submit(session, runtime, principal, submission_id, body)
    except service.Denied as exc:
        return _not_found(exc)
    if submission.callback_pending:  # sent after the response; the tick retries failures
        background.add_task(
            timers.deliver_callbacks, request.app.state.database, runtime, [submission.id]
        )
    # ozg-commons extension: the signed submission receipt (docs/receipts.md)
    return {**_created(submission), "ozgReceipt": submission.receipt}


# --------------------------------------------------------------------------- reading
@router.get("/v1/submissions", summary="List submissions (subscriber: of a destination)")
def list_submissions(
    request: Request,
    session: DbSession,
    principal: Reader,
    destination_id: Annotated[str | None, Query(alias="destinationId")] = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    runtime = runtime_of(request)
    if destination_id is not None:
        try:
            key = canonical_uuid(destination_id)
        except ValueError:
            key = destination_id
        rows, total = service.list_for_subscriber(
            session, runtime, principal, key, offset=offset, limit=limit
        )
    else:
        rows, total = service.list_for_sender(session, principal, offset=offset, limit=limit)
    return {
        "count": len(rows),
        "offset": offset,
        "totalCount": total,
        "submissions": [_created(s) for s in rows],
    }


@router.get("/v1/submissions/{submission_id}", summary="A submission (with its ciphertext)")
def get_submission(
    submission_id: str, request: Request, session: DbSession, principal: Reader
) -> Any:
    runtime = runtime_of(request)
    try:
        submission = service.read_submission(session, runtime, principal, submission_id)
    except service.Denied as exc:
        return _not_found(exc)
    uploaded = [a.attachment_id for a in service.attachments_of(session, submission)]
    public_service = {"name": submission.service_name, "identifier": submission.service_identifier}
    body: dict[str, Any] = {
        **_created(submission),
        "attachments": uploaded,
        "publicService": public_service,
        "serviceType": public_service,
    }
    if submission.encrypted_metadata is not None:
        body["encryptedMetadata"] = submission.encrypted_metadata
    if submission.encrypted_data is not None:
        body["encryptedData"] = submission.encrypted_data
    if submission.manifest is not None:
        body["ozgManifest"] = submission.manifest
    return body


@router.get(
    "/v1/submissions/{submission_id}/attachments/{attachment_id}",
    summary="An attachment (application/jose)",
)
def get_attachment(
    submission_id: str,
    attachment_id: str,
    request: Request,
    session: DbSession,
    principal: Reader,
) -> Response:
    runtime = runtime_of(request)
    try:
        _submission, row = service.attachment_for(
            session, runtime, principal, submission_id, attachment_id
        )
    except service.Denied as exc:
        return _not_found(exc)
    try:
        blocks = runtime.store.get(row.blob_key)
    except BlobNotFound:
        raise AttachmentNotFound() from None
    return StreamingResponse(blocks, media_type=JOSE, headers={"Content-Length": str(row.size)})


@router.get("/v1/cases/{case_id}/events", summary="The case's event log (SETs)")
def get_events(
    case_id: str,
    request: Request,
    session: DbSession,
    principal: Reader,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=500)] = 500,
) -> Any:
    try:
        log_ = service.read_events(
            session, runtime_of(request), principal, case_id, offset=offset, limit=limit
        )
    except service.Denied as exc:
        return _not_found(exc)
    return {"eventLog": log_}


async def _event_token(request: Request) -> str:
    """The posted SET: the body as ``application/jose`` (liberal: a JSON string too)."""
    raw = (await request.body())[:MAX_EVENT_BYTES].decode("ascii", errors="replace").strip()
    if len(raw) > 1 and raw.startswith('"') and raw.endswith('"'):
        raw = raw[1:-1]
    return raw


MAX_EVENT_BYTES = 300_000


@router.post(
    "/v1/cases/{case_id}/events",
    status_code=204,
    summary="Acknowledge: post the destination's signed accept- or reject-submission",
)
def post_event(
    case_id: str,
    token: Annotated[str, Depends(_event_token)],
    request: Request,
    session: DbSession,
    principal: Reader,
) -> Response:
    try:
        service.post_event(session, runtime_of(request), principal, case_id, token)
    except service.Denied as exc:
        return _not_found(exc)
    return Response(status_code=204)
