"""HTTP routes of chunked, resumable uploads (``vault.chunked``; wire format in docs/vault.md,
"Chunked uploads"): ``POST /uploads`` → ``PUT /uploads/{id}`` per piece with
``Upload-Offset`` → ``POST /uploads/{id}/finish``; ``GET /uploads/{id}`` says where to
resume, ``DELETE`` cancels. Like the single-request upload, the handlers that take a body
check the caller before reading it and run their own short units of work."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool

from account import Principal, Role, require_roles
from commons.db import Database
from commons.errors import InvalidInput
from commons.text import MAX_INT64, decimal_int
from commons.web import upload_body
from vault import chunked, schemas, uploads
from vault.errors import DocumentTooLarge, InvalidEnvelope, UploadConflict, UploadNotFound
from vault.models import Upload
from vault.pipeline import WritebackWriter
from vault.runtime import VaultState, vault_state

router = APIRouter(prefix="/vault", tags=["vault"])
_WRITE_BATCH = 1024 * 1024
StreamingApplicant = Annotated[Principal, Depends(require_roles(Role.APPLICANT, streaming=True))]


def _limits(state: VaultState) -> chunked.Limits:
    config = state.config
    return chunked.Limits(
        max_document_bytes=config.max_document_bytes,
        quota_bytes=config.quota_bytes,
        piece_bytes=config.upload_piece_bytes,
        ttl=timedelta(seconds=config.upload_ttl_seconds),
        max_open=config.max_open_uploads,
    )


def _dir(state: VaultState) -> Path:
    return chunked.spool_dir(state.settings.data_dir)


def _out(row: Upload, state: VaultState) -> schemas.UploadOut:
    return schemas.UploadOut(
        id=row.id,
        size=row.size,
        offset=row.offset,
        piece_bytes=state.config.upload_piece_bytes,
        expires_at=row.expires_at,
    )


def _offset(request: Request) -> int:
    offset = decimal_int(request.headers.get("upload-offset", ""))
    if offset is None or not 0 <= offset <= MAX_INT64:
        raise InvalidInput("the Upload-Offset header (a byte offset) is required")
    return offset


@router.post("/uploads", status_code=201, response_model=schemas.UploadOut)
def create_upload(
    body: schemas.UploadIn, request: Request, principal: StreamingApplicant
) -> schemas.UploadOut:
    state = vault_state(request)
    database: Database = request.app.state.database
    with database.transaction() as session:
        row = chunked.create(session, principal, body.size, _limits(state), state.clock)
        return _out(row, state)


@router.get("/uploads/{upload_id}", response_model=schemas.UploadOut)
def upload_status(
    upload_id: str, request: Request, principal: StreamingApplicant
) -> schemas.UploadOut:
    state = vault_state(request)
    database: Database = request.app.state.database
    with database.transaction() as session:
        return _out(chunked.get(session, principal, upload_id, state.clock), state)


@router.put(
    "/uploads/{upload_id}",
    response_model=schemas.UploadOut,
    summary="One piece of a chunked upload (application/octet-stream at Upload-Offset)",
    openapi_extra=upload_body(),
)
async def put_piece(
    upload_id: str, request: Request, principal: StreamingApplicant
) -> schemas.UploadOut:
    state = vault_state(request)
    database: Database = request.app.state.database
    limits = _limits(state)
    directory = _dir(state)
    offset = _offset(request)
    announced = decimal_int(request.headers.get("content-length", ""))
    if announced is not None and announced > limits.piece_bytes:
        raise DocumentTooLarge(limits.piece_bytes, "one piece")

    def claim() -> tuple[int, bool]:
        with database.transaction() as session:
            row = chunked.claim(session, principal, upload_id, offset, state.clock)
            return row.size, row.header_checked

    size, header_checked = await run_in_threadpool(claim)

    def release() -> None:
        with database.transaction() as session:
            chunked.release(session, upload_id)

    def discard() -> None:
        with database.transaction() as session:
            chunked.discard(session, directory, upload_id)

    try:
        written = 0
        with chunked.open_spool(directory, upload_id, offset) as handle:
            # The body arrives in blocks of ~64 KiB; they are written in batches of ~1 MiB,
            # one thread-pool hop each, the disk's writeback started as they go.
            writer = WritebackWriter(handle.fileno(), 4 * _WRITE_BATCH, offset=offset)
            batch = bytearray()
            async for block in request.stream():
                written += len(block)
                if written > limits.piece_bytes:
                    raise DocumentTooLarge(limits.piece_bytes, "one piece")
                if offset + written > size:
                    raise UploadConflict(
                        f"the piece ends after the announced size of {size} bytes", offset=offset
                    )
                batch += block
                if len(batch) >= _WRITE_BATCH:
                    await run_in_threadpool(writer, memoryview(batch))
                    batch = bytearray()
            if batch:
                await run_in_threadpool(writer, memoryview(batch))
            await run_in_threadpool(chunked.sync, handle)
        end = offset + written
        if not header_checked:
            header = await run_in_threadpool(chunked.check_header, directory, upload_id, end)
            if header is not None:
                await run_in_threadpool(_refuse_taken_id, database, str(header.document_id))
                header_checked = True
    except InvalidEnvelope:
        await run_in_threadpool(discard)
        raise
    except BaseException:
        await run_in_threadpool(release)
        raise

    def advance() -> schemas.UploadOut:
        with database.transaction() as session:
            row = chunked.advance(session, upload_id, end, header_checked, limits.ttl, state.clock)
            return _out(row, state)

    try:
        return await run_in_threadpool(advance)
    except UploadNotFound:  # cancelled or erased (DELETE /v1/me) while the piece arrived
        await run_in_threadpool(chunked.remove_spool, directory, upload_id)
        raise


def _refuse_taken_id(database: Database, document_id: str) -> None:
    with database.transaction() as session:
        uploads.check_id_free(session, document_id)


@router.post("/uploads/{upload_id}/finish", status_code=201, response_model=schemas.DocumentOut)
def finish_upload(
    upload_id: str, request: Request, principal: StreamingApplicant
) -> schemas.DocumentOut:
    state = vault_state(request)
    database: Database = request.app.state.database
    directory = _dir(state)
    config = state.config
    with database.transaction() as session:
        row = chunked.claim(session, principal, upload_id, None, state.clock)
        size = row.size
    stored = None
    try:
        with database.transaction() as session:
            row = chunked.get(session, principal, upload_id, state.clock)
            checked = chunked.checked_envelope(directory, row, config.max_document_bytes)
            uploads.check_quota(session, principal.subject, size, config.quota_bytes)
        chunked.store_spool(state.store, checked.blob_key, directory, upload_id, size)
        stored = checked.blob_key
        with database.transaction() as session:
            # Cancelled or erased (DELETE /v1/me) meanwhile: no document for it (404).
            chunked.get(session, principal, upload_id, state.clock, for_update=True)
            doc = uploads.add_document(
                session, principal, checked, quota=config.quota_bytes, clock=state.clock
            )
            chunked.forget(session, upload_id)
            out = schemas.DocumentOut(
                id=doc.id, envelope_size=doc.envelope_size, created_at=doc.created_at
            )
    except InvalidEnvelope:
        with database.transaction() as session:
            chunked.discard(session, directory, upload_id)
        raise
    except BaseException:
        if stored is not None:
            state.store.delete(stored)
        with database.transaction() as session:
            chunked.release(session, upload_id)
        raise
    chunked.remove_spool(directory, upload_id)
    return out


@router.delete("/uploads/{upload_id}", status_code=204)
def cancel_upload(upload_id: str, request: Request, principal: StreamingApplicant) -> None:
    state = vault_state(request)
    database: Database = request.app.state.database
    with database.transaction() as session:
        chunked.get(session, principal, upload_id, state.clock)
        chunked.discard(session, _dir(state), upload_id)
