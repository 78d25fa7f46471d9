"""HTTP routes of the vault domain: thin handlers over the service modules (``service``,
``uploads``, ``sharing``, ``deletion``, ``applicant_keys``, ``authority_keys``).

The upload is the one handler that manages its own units of work: the envelope is spooled
(streaming, memory bounded) and checked, then stored in the blob store, and only then does
a short transaction make the document row visible. A failed or interrupted upload leaves no
row; a blob left behind by a crash is removed by ``ozg-commons vault gc``.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from account import (
    CurrentPrincipal,
    Principal,
    Role,
    Scope,
    require_roles,
    require_scope,
)
from commons.db import Database
from commons.settings import Settings
from commons.text import decimal_int
from commons.web import DbSession, upload_body
from vault import (
    applicant_keys,
    authority_keys,
    deletion,
    schemas,
    service,
    sharing,
    uploads,
)
from vault.blobstore import (
    BlobStore,
    S3BlobStore,
    spool_for,
    store_from_settings,
)
from vault.errors import BlobNotFound, DocumentNotFound, DocumentTooLarge
from vault.pki import validate_authority_jwk
from vault.runtime import VaultState, vault_state
from vault.uploads import byte_range

log = logging.getLogger("ozg.vault")
router = APIRouter(prefix="/vault", tags=["vault"])

Applicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT))]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
# The upload runs its own short units of work, so its principal is checked in one as well.
StreamingApplicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT, streaming=True))]
VaultRead = [Depends(require_scope(Scope.VAULT_READ))]


def configure(app: FastAPI, settings: Settings, store: BlobStore | None = None) -> None:
    """Per-app vault state: blob store, receipt signer (the gateway's
    ``app.state.receipt_signer``), object-store readiness check."""
    store = store or store_from_settings(settings)
    if isinstance(store, S3BlobStore) and not settings.is_production:
        try:
            store.ensure_bucket()
        except Exception:
            log.warning("could not create the S3 bucket", exc_info=True)
    app.state.vault = VaultState(settings, store, app.state.receipt_signer)


def _out(session: Session, doc: Any) -> schemas.DocumentOut:
    return _listed(doc, service.shared_with(session, [doc.id])[doc.id])


def _listed(doc: Any, shared_with: list[str]) -> schemas.DocumentOut:
    return schemas.DocumentOut(
        id=doc.id,
        envelope_size=doc.envelope_size,
        created_at=doc.created_at,
        shared_with=shared_with,
    )


# --------------------------------------------------------------------------- documents
@router.post(
    "/documents",
    status_code=201,
    response_model=schemas.DocumentOut,
    summary="Upload an envelope (application/octet-stream, streamed)",
    openapi_extra=upload_body(),
)
async def upload(request: Request, principal: StreamingApplicant) -> schemas.DocumentOut:
    state = vault_state(request)
    database: Database = request.app.state.database
    limit = uploads.max_envelope_size(state.config.max_document_bytes)
    announced = decimal_int(request.headers.get("content-length", ""))
    if announced is not None:  # refuse early what is bound to fail
        if announced > limit:
            raise DocumentTooLarge(state.config.max_document_bytes)

        def early_quota() -> None:
            with database.transaction() as session:
                uploads.check_quota(
                    session, principal.subject, int(announced), state.config.quota_bytes
                )

        await run_in_threadpool(early_quota)
    # unlinked at once: a crash leaves nothing; in the store's own directory if it can
    # take the spool as it is (the filesystem store), so the upload is written once
    with spool_for(state.store) as spool:
        size = 0
        prefix: bytearray | None = bytearray()  # until the whole header has arrived
        async for block in request.stream():
            size += len(block)
            if size > limit:
                raise DocumentTooLarge(state.config.max_document_bytes)
            if prefix is not None:
                # refuse a malformed header, or a document id already taken, before
                # receiving the body (a header is at most about 82 kB)
                prefix += block
                header = uploads.header_of_prefix(bytes(prefix))
                if header is None:
                    continue
                await run_in_threadpool(_refuse_taken_id, database, str(header.document_id))
                block, prefix = bytes(prefix), None
            await run_in_threadpool(spool.write, block)
        if prefix:
            await run_in_threadpool(spool.write, bytes(prefix))  # check_envelope refuses it
        spool.flush()
        checked = await run_in_threadpool(
            uploads.check_envelope, spool, size, state.config.max_document_bytes
        )

        def precheck() -> None:  # the id was checked with the header; add_document again
            with database.transaction() as session:
                uploads.check_quota(session, principal.subject, size, state.config.quota_bytes)

        await run_in_threadpool(precheck)
        await run_in_threadpool(state.store.put, checked.blob_key, spool, size)

    def commit() -> schemas.DocumentOut:
        with database.transaction() as session:
            doc = uploads.add_document(
                session,
                principal,
                checked,
                quota=state.config.quota_bytes,
                clock=state.clock,
            )
            return _out(session, doc)

    try:
        return await run_in_threadpool(commit)
    except Exception:
        await run_in_threadpool(state.store.delete, checked.blob_key)
        raise


def _refuse_taken_id(database: Database, document_id: str) -> None:
    with database.transaction() as session:
        uploads.check_id_free(session, document_id)


@router.get("/documents", response_model=list[schemas.DocumentOut], dependencies=VaultRead)
def list_documents(session: DbSession, principal: CurrentPrincipal) -> list[schemas.DocumentOut]:
    documents = service.list_documents(session, principal)
    shares = service.shared_with(session, [d.id for d in documents])
    return [_listed(d, shares[d.id]) for d in documents]


@router.get("/documents/{document_id}", response_model=schemas.DocumentOut, dependencies=VaultRead)
def get_document(
    document_id: str, session: DbSession, principal: CurrentPrincipal
) -> schemas.DocumentOut:
    doc = service.get_document(session, principal, service.document_uuid(document_id))
    return _out(session, doc)


@router.get(
    "/documents/{document_id}/content",
    summary="Download the envelope (streamed; one byte range with Range: bytes=…)",
    dependencies=VaultRead,
)
def download(
    document_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    state = vault_state(request)
    doc = service.open_for_download(
        session, principal, service.document_uuid(document_id), state.clock
    )
    size = doc.envelope_size
    wanted = byte_range(request.headers.get("range"), size)
    start, end = wanted or (0, size - 1)
    length = end - start + 1 if size else 0
    try:
        blocks = (
            state.store.get(doc.blob_key, start, length)
            if wanted
            else state.store.get(doc.blob_key)
        )
    except BlobNotFound:
        raise DocumentNotFound() from None
    headers = {"Content-Length": str(length), "Accept-Ranges": "bytes"}
    if wanted:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return StreamingResponse(
        blocks,
        status_code=206 if wanted else 200,
        media_type="application/octet-stream",
        headers=headers,
    )


@router.get(
    "/documents/{document_id}/key",
    response_model=schemas.WrappedKeyOut,
    summary="The caseworker's authority's wrapped document key",
)
def wrapped_key(
    document_id: str,
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(require_roles(Role.CASEWORKER))],
) -> schemas.WrappedKeyOut:
    share = sharing.wrapped_key_for(
        session, principal, service.document_uuid(document_id), vault_state(request).clock
    )
    return schemas.WrappedKeyOut(
        document_id=share.document_id,
        authority=share.authority,
        kid=share.kid,
        stanza=base64.b64encode(share.stanza).decode(),
    )


@router.put("/documents/{document_id}/shares/{authority}", response_model=schemas.DocumentOut)
def share(
    document_id: str,
    authority: str,
    body: schemas.ShareIn,
    request: Request,
    session: DbSession,
    principal: Applicant,
) -> schemas.DocumentOut:
    doc_id = service.document_uuid(document_id)
    state = vault_state(request)
    sharing.share(
        session, principal, doc_id, authority, body.stanza, state.clock, check=state.check_key
    )
    return _out(session, service.get_document(session, principal, doc_id))


@router.delete("/documents/{document_id}/shares/{authority}", status_code=204)
def unshare(
    document_id: str, authority: str, request: Request, session: DbSession, principal: Applicant
) -> None:
    sharing.unshare(
        session,
        principal,
        service.document_uuid(document_id),
        authority,
        vault_state(request).clock,
    )


@router.delete(
    "/documents/{document_id}",
    response_model=schemas.DeletionReceipt,
    summary="Crypto-shred a document; returns a signed deletion receipt",
)
def delete_document(
    document_id: str, request: Request, session: DbSession, principal: Applicant
) -> dict[str, Any]:
    state = vault_state(request)
    return deletion.delete_document(
        session,
        principal,
        service.document_uuid(document_id),
        state.store,
        state.signer,
        state.clock,
    )


@router.get(
    "/receipt-key",
    summary="Deprecated alias of GET /v1/receipts/keys (the same JWKS)",
    deprecated=True,
)
def receipt_key(request: Request, response: Response) -> dict[str, Any]:
    response.headers["Deprecation"] = "true"
    response.headers["Link"] = '</v1/receipts/keys>; rel="successor-version"'
    return vault_state(request).signer.jwks()


@router.get("/usage", response_model=schemas.UsageOut)
def usage(request: Request, session: DbSession, principal: Applicant) -> schemas.UsageOut:
    config = vault_state(request).config
    return schemas.UsageOut(
        used_bytes=uploads.used_bytes(session, principal.subject),
        quota_bytes=config.quota_bytes,
        max_document_bytes=config.max_document_bytes,
    )


# --------------------------------------------------------------------------- keys
def _key_out(row: Any) -> schemas.ApplicantKeyOut:
    return schemas.ApplicantKeyOut(
        kid=row.kid,
        public_jwk=json.loads(row.public_jwk),
        wrapped_by_passphrase=row.wrapped_by_passphrase,
        wrapped_by_recovery=row.wrapped_by_recovery,
    )


@router.put("/keys/me", status_code=201, response_model=schemas.ApplicantKeyOut)
def register_key(
    body: schemas.ApplicantKeyIn, request: Request, session: DbSession, principal: Applicant
) -> schemas.ApplicantKeyOut:
    row = applicant_keys.register_applicant_key(
        session,
        principal,
        body.public_jwk,
        body.wrapped_by_passphrase,
        body.wrapped_by_recovery,
        vault_state(request).clock,
    )
    return _key_out(row)


@router.get("/keys/me", response_model=schemas.ApplicantKeyOut)
def get_key(request: Request, session: DbSession, principal: Applicant) -> schemas.ApplicantKeyOut:
    return _key_out(
        applicant_keys.get_applicant_key(session, principal, vault_state(request).clock)
    )


@router.patch(
    "/keys/me",
    response_model=schemas.ApplicantKeyOut,
    summary="Passphrase change or recovery: replace a wrapped form of the same key",
)
def rewrap_key(
    body: schemas.ApplicantKeyRewrap, request: Request, session: DbSession, principal: Applicant
) -> schemas.ApplicantKeyOut:
    row = applicant_keys.rewrap_applicant_key(
        session,
        principal,
        body.kid,
        body.wrapped_by_passphrase,
        body.wrapped_by_recovery,
        vault_state(request).clock,
    )
    return _key_out(row)


def _authority_out(row: Any) -> schemas.AuthorityKeyOut:
    return schemas.AuthorityKeyOut(
        authority=row.authority,
        kid=row.kid,
        jwk=json.loads(row.jwk),
        not_after=row.not_after,
        retires_at=row.retires_at,
    )


@router.post(
    "/authorities/{authority}/keys", status_code=201, response_model=schemas.AuthorityKeyOut
)
def register_authority_key(
    authority: str,
    body: schemas.AuthorityKeyIn,
    request: Request,
    session: DbSession,
    principal: Admin,
) -> schemas.AuthorityKeyOut:
    state = vault_state(request)
    validated = validate_authority_jwk(
        body.jwk, state.anchors(), state.clock.now(), authority=authority
    )
    state.revocation().check_chain(validated.chain, state.clock.now())
    overlap = timedelta(days=state.config.key_overlap_days)
    row = authority_keys.register_authority_key(session, authority, validated, overlap, state.clock)
    log.info("authority key registered", extra={"authority": authority, "kid": row.kid})
    return _authority_out(row)


@router.get(
    "/authorities/{authority}/key",
    response_model=schemas.AuthorityKeyOut,
    summary="The authority's active key: what clients wrap to",
    dependencies=VaultRead,
)
def authority_key(
    authority: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> schemas.AuthorityKeyOut:
    state = vault_state(request)
    return _authority_out(
        authority_keys.active_authority_key(session, authority, state.clock, check=state.check_key)
    )
