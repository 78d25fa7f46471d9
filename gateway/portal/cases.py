"""The applicant's cases, mailbox and access log: ``/cases``, ``/cases/{id}``, ``/messages``,
``/messages/{id}`` and ``/access-log`` (docs/portal.md, "My applications").

The server renders the empty page with its texts in the caller's language and the public
facts the device needs to word them (flow titles, authority names, the action registry's
plain-language texts). The page's module (static/js/cases*.js) fetches the case, message or
log entries from the ``/v1`` API with the session cookie, opens sealed messages with the
vault key on the device, and verifies each access-log entry there (auditproof.js).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.portal.pages import render, require_login
from gateway.portal.sessions import LiveSession

router = APIRouter(include_in_schema=False)

#: Case and message ids are UUIDs or similar tokens; anything else is a 404 page.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _flow_titles(request: Request) -> dict[str, dict[str, str]]:
    from gateway.flows.service import definitions

    return {
        flow_id: definition.title.as_json()
        for flow_id, definition in definitions(request.app.state.components).items()
    }


def _authority_names(request: Request) -> dict[str, dict[str, str]]:
    """Authority id -> name in de/en (public registry data), empty without the registry."""
    state = getattr(request.app.state, "authorities", None)
    if state is None:
        return {}
    return {a.id: a.name.as_json() for a in state.registry().all()}


def _action_texts(request: Request) -> dict[str, dict[str, str]]:
    """The action registry's plain-language texts (action -> en/de), public declarations."""
    audit = getattr(request.app.state, "audit", None)
    actions = getattr(audit, "actions", {}) if audit is not None else {}
    return {
        name: {"en": a.description_en, "de": a.description_de, "category": a.data_category}
        for name, a in actions.items()
    }


def _page(request: Request, template: str, **context: Any) -> Response:
    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    return render(request, template, live=live, **context)


def _not_found(request: Request) -> Response:
    return render(request, "cases/not_found.html", status=404)


@router.get("/cases", response_class=HTMLResponse)
def cases(request: Request) -> Response:
    return _page(request, "cases/list.html", flows=_flow_titles(request),
                 authorities=_authority_names(request))  # fmt: skip


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case(request: Request, case_id: str) -> Response:
    if not _ID.match(case_id):
        return _not_found(request)
    return _page(request, "cases/detail.html", case_id=case_id, flows=_flow_titles(request),
                 authorities=_authority_names(request))  # fmt: skip


@router.get("/messages", response_class=HTMLResponse)
def mailbox(request: Request) -> Response:
    return _page(request, "cases/mailbox.html", authorities=_authority_names(request))


@router.get("/messages/{message_id}", response_class=HTMLResponse)
def message(request: Request, message_id: str) -> Response:
    if not _ID.match(message_id):
        return _not_found(request)
    return _page(request, "cases/message.html", message_id=message_id,
                 authorities=_authority_names(request))  # fmt: skip


@router.get("/access-log", response_class=HTMLResponse)
def access_log(request: Request) -> Response:
    return _page(request, "cases/access_log.html", authorities=_authority_names(request),
                 actions=_action_texts(request))  # fmt: skip
