"""The data-protection officer's console (``/dpo``) and the Art. 30 register
(``/dpo/register``), behind the role ``dpo``.

The console page is an empty frame: the browser queries ``/v1/audit/...`` with the session
cookie (``static/js/dpo.js``) and verifies the log's checkpoints and consistency proofs
itself (``static/js/auditlog.js``). The register is rendered on the server from the
composed declarations (what ``ozg-commons compliance register`` prints); it holds no
personal data.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from account import Principal, Role
from compliance import register_json
from gateway.portal.pages import N_, render, require_login
from gateway.portal.runtime import portal
from gateway.portal.sessions import LiveSession

router = APIRouter(include_in_schema=False)
log = logging.getLogger("ozg.portal")

#: The strings dpo.js shows, rendered translated into the page (``#dpo-strings``).
SCRIPT_STRINGS = {
    "verified": N_("Verified"),
    "not_verified": N_("Not verified"),
    "checking": N_("Checking …"),
    "no_checkpoint": N_("No checkpoint has been published yet."),
    "key_changed": N_("The log's key differs from the key this browser pinned before."),
    "signature_ok": N_("Signature valid"),
    "consistent": N_("Consistent with the latest checkpoint"),
    "remembered": N_("last verified in this browser"),
    "failure": N_("Failed check"),
    "no_entries": N_("No entries match."),
    "unusual": N_("Unusual"),
    "many_opens": N_("{actor} opened {count} documents; the median of {peers} peers is {median}."),
    "night": N_("{actor}: {count} accesses outside office hours (first {first})."),
    "nothing_unusual": N_("Nothing unusual under these rules."),
    "rules": N_(
        "Unusual means: more than {factor} times the median of the peers' document opens "
        "({actions}; at least {min_peers} peers of the same role), or access by staff "
        "({roles}) outside {hours}, {zone}."
    ),
    "load_failed": N_("The request failed:"),
    "cosigned": N_("Co-signed checkpoint {size} as {name}."),
    "cosig_valid": N_("valid"),
    "cosig_invalid": N_("does not verify"),
    "no_key": N_("No co-signing key in this browser yet."),
}


def require_dpo(request: Request) -> tuple[LiveSession, Principal] | Response:
    """The signed-in DPO, a redirect to the login, or a 403 page for anyone else."""
    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    runtime = portal(request.app)
    token = runtime.sessions.access_token(request)
    try:
        principal: Principal = request.app.state.authenticator.principal_for_token(str(token))
    except Exception as exc:  # the token no longer verifies (InvalidToken & co.)
        if getattr(exc, "status", None) not in (401, 403):
            raise
        log.info("dpo console: session token refused")
        return render(request, "dpo/forbidden.html", status=403, live=live)
    if not principal.has(Role.DPO):
        return render(request, "dpo/forbidden.html", status=403, live=live)
    return live, principal


@router.get("/dpo", response_class=HTMLResponse)
def console(request: Request) -> Response:
    found = require_dpo(request)
    if isinstance(found, Response):
        return found
    live, principal = found
    return render(
        request,
        "dpo/console.html",
        live=live,
        authority=principal.authority,
        script_strings=SCRIPT_STRINGS,
    )


@router.get("/dpo/register", response_class=HTMLResponse)
def register(request: Request) -> Response:
    found = require_dpo(request)
    if isinstance(found, Response):
        return found
    live, _principal = found
    data: dict[str, Any] = register_json(request.app.state.declarations)
    return render(request, "dpo/register.html", live=live, register=data)
