"""The portal's pages: the start page, Leichte Sprache, the accessibility statement, imprint
and privacy, the account page, the language switch and the DGS video.

Every page is rendered on the server in the negotiated language; the server renders no
applicant data but the name and trust level of the signed-in user.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from commons.errors import OzgError
from gateway.portal import i18n
from gateway.portal.runtime import portal
from gateway.portal.sessions import SESSION_COOKIE, LiveSession

router = APIRouter(include_in_schema=False)

TRUST_LEVELS = {1: "basis", 2: "substantiell", 3: "hoch"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown (gettext's N_)."""
    return message


def _current_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the caller's language, with the session's user and CSRF token."""
    runtime = portal(request.app)
    language = runtime.catalogues.negotiate(
        request.cookies.get(i18n.LANGUAGE_COOKIE), request.headers.get("accept-language")
    )
    i18n.use(language)
    live: LiveSession | None = context.pop("live", None) or runtime.sessions.live(request)
    html = runtime.templates.get_template(template).render(
        lang=language,
        languages=list(runtime.catalogues.languages.values()),
        user=live,
        trust_level_name=TRUST_LEVELS.get(live.trust_level, "basis") if live else None,
        csrf_token=live.csrf_token if live else "",
        current_path=_current_path(request),
        here=quote(_current_path(request), safe=""),
        portal=runtime.section,
        **context,
    )
    headers = {
        "Content-Language": language.code,
        "Vary": "Cookie, Accept-Language",
        "Cache-Control": "no-store" if live else "no-cache",
    }
    return HTMLResponse(html, status_code=status, headers=headers)


def require_login(request: Request, *, min_trust_level: int = 1) -> LiveSession | Response:
    """The live session, or the redirect that gets one: to the login (with ``acr=hoch`` for a
    step-up), or to "your session expired" when the cookie names a session that ended."""
    runtime = portal(request.app)
    live = runtime.sessions.live(request)
    here = _current_path(request)
    from gateway.portal.login import login_path

    if live is None:
        if SESSION_COOKIE in request.cookies:
            return RedirectResponse(f"/session-expired?next={quote(here, safe='')}", 303)
        return RedirectResponse(login_path(here), 303)
    if live.trust_level < min_trust_level:
        return RedirectResponse(login_path(here, acr="hoch"), 303)
    return live


# --------------------------------------------------------------------------- facts
@dataclass(frozen=True, slots=True)
class Route:
    id: str
    title: dict[str, str]
    summary: dict[str, str]
    fee_cents: int | None


def permit_routes(request: Request) -> list[Route]:
    """The installed flows with the fee an adult pays for a one-year permit (from the fee
    catalogue in force today)."""
    from gateway.flows.service import definitions
    from payments import CaseFacts, FeeRule, calculate

    routes = []
    for definition in definitions(request.app.state.components).values():
        fee = definition.fee
        fee_cents: int | None
        try:
            facts = CaseFacts(
                decision_date=date.today(),
                applicant_age=30,
                duration_months=12,
                **fee.get("fixed", {}),
            )
            rule = FeeRule(fee["procedure"], fee.get("express_available", True))
            fee_cents = calculate(rule, facts).total_cents
        except (OzgError, ValueError, TypeError, KeyError):  # a fee that needs more facts
            fee_cents = None
        routes.append(
            Route(
                definition.id,
                definition.title.as_json(),
                definition.summary.as_json(),
                fee_cents,
            )
        )
    return routes


def typical_fee(routes: list[Route]) -> int | None:
    """The fee most permit routes cost (the mode), in cents."""
    fees = Counter(r.fee_cents for r in routes if r.fee_cents is not None)
    return fees.most_common(1)[0][0] if fees else None


def euros(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents / 100:.2f}".replace(".", ",")


def _text_in(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


# --------------------------------------------------------------------------- pages
@router.get("/", response_class=HTMLResponse)
def start(request: Request) -> Response:
    routes = permit_routes(request)
    runtime = portal(request.app)
    return render(
        request,
        "start.html",
        routes=routes,
        typical_fee=typical_fee(routes),
        euros=euros,
        text_in=_text_in,
        dgs_video=runtime.section.dgs_video_file is not None,
    )


@router.get("/easy-read", response_class=HTMLResponse)
def easy_read(request: Request) -> Response:
    fee = typical_fee(permit_routes(request))
    return render(request, "easy_read.html", typical_fee=euros(fee) if fee else None)


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(request: Request) -> Response:
    return render(request, "accessibility.html")


def _paragraphs(path: Any) -> list[str] | None:
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    return [p.strip() for p in text.split("\n\n") if p.strip()]


@router.get("/imprint", response_class=HTMLResponse)
def imprint(request: Request) -> Response:
    section = portal(request.app).section
    return render(
        request, "text_page.html", page="imprint", paragraphs=_paragraphs(section.imprint_file)
    )


@router.get("/privacy", response_class=HTMLResponse)
def privacy(request: Request) -> Response:
    section = portal(request.app).section
    return render(
        request, "text_page.html", page="privacy", paragraphs=_paragraphs(section.privacy_file)
    )


@router.get("/account", response_class=HTMLResponse)
def account(request: Request) -> Response:
    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    return render(request, "account.html", live=live, stepped_up=request.query_params.get("ok"))


@router.get("/account/hoch", response_class=HTMLResponse)
def account_hoch(request: Request) -> Response:
    """A page that demands trust level hoch (as a flow's submit step will): a user signed
    in at a lower level is sent through the step-up and comes back here."""
    live = require_login(request, min_trust_level=3)
    if not isinstance(live, LiveSession):
        return live
    return render(request, "account.html", live=live, stepped_up=True)


@router.get("/language/{code}")
def choose_language(request: Request, code: str, next: str = "/") -> Response:
    from gateway.portal.login import safe_next

    runtime = portal(request.app)
    language = runtime.catalogues.get(code)
    response = RedirectResponse(safe_next(next), status_code=303)
    if language is not None:
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            language.code,
            max_age=365 * 24 * 3600,
            path="/",
            secure=runtime.secure_cookies,
            samesite="lax",
        )
    return response


@router.get("/dgs-video")
def dgs_video(request: Request) -> Response:
    """The operator's DGS video file (BITV 2.0 § 4), downloadable; 404 while none is set."""
    path = portal(request.app).section.dgs_video_file
    if path is None:
        return render(request, "message.html", status=404, kind="no-video")
    return FileResponse(path, filename=path.name)
