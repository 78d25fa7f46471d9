"""The applicant's documents page (``/documents``): the vault key is made, unlocked and locked
in the browser, documents are sealed, listed, opened, shared and deleted there
(``static/js/documents.js``). The server renders the page shell and its texts only; it never
sees a passphrase, a recovery code, a file name or a document in the clear."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.portal.login import safe_next
from gateway.portal.pages import render, require_login
from gateway.portal.sessions import LiveSession

router = APIRouter(include_in_schema=False)


@router.get("/documents", response_class=HTMLResponse)
def documents(request: Request, unlock: int = 0, next: str = "") -> Response:
    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    return render(
        request,
        "documents/index.html",
        live=live,
        unlock_only=bool(unlock),
        next_page=safe_next(next) if next else "",
    )
