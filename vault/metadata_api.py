"""HTTP routes of the metadata-only read (``vault.metadata_read``; wire format in
docs/envelope.md §13): ``GET /documents/metadata`` for a page of the caller's documents,
``GET /documents/{id}/metadata`` for one. Mounted before the other document routes, so
that ``/documents/metadata`` is not taken for a document id."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from account import CurrentPrincipal, Scope, require_scope
from commons.text import Int64
from commons.web import DbSession
from vault import metadata_read, schemas, service
from vault.runtime import vault_state

router = APIRouter(prefix="/vault", tags=["vault"])
VaultRead = [Depends(require_scope(Scope.VAULT_READ))]


def _out(sealed: metadata_read.SealedMetadata) -> schemas.SealedMetadataOut:
    b64 = base64.b64encode
    return schemas.SealedMetadataOut(
        format=metadata_read.FORMAT,
        id=sealed.document_id,
        envelope_size=sealed.envelope_size,
        header=b64(sealed.header).decode(),
        metadata_record=b64(sealed.record).decode(),
        stanza=b64(sealed.stanza).decode() if sealed.stanza is not None else None,
    )


@router.get(
    "/documents/metadata",
    response_model=schemas.SealedMetadataPage,
    summary="A page of your documents' headers and metadata records, never their content "
    "(recorded per document)",
    dependencies=VaultRead,
)
def metadata_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[Int64, Query(ge=1, le=metadata_read.MAX_PAGE)] = 50,
    cursor: str | None = None,
) -> schemas.SealedMetadataPage:
    state = vault_state(request)
    page, next_cursor = metadata_read.read_page(
        session, principal, state.store, state.clock, limit=limit, cursor=cursor
    )
    return schemas.SealedMetadataPage(documents=[_out(s) for s in page], next_cursor=next_cursor)


@router.get(
    "/documents/{document_id}/metadata",
    response_model=schemas.SealedMetadataOut,
    summary="One document's header and metadata record, never its content (recorded)",
    dependencies=VaultRead,
)
def metadata_one(
    document_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> schemas.SealedMetadataOut:
    state = vault_state(request)
    return _out(
        metadata_read.read_one(
            session, principal, state.store, service.document_uuid(document_id), state.clock
        )
    )
