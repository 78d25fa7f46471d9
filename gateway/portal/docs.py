"""The interactive API documentation, served offline: Swagger UI at ``/docs`` and ReDoc at
``/redoc`` from the npm packages ``swagger-ui-dist`` and ``redoc`` (copied to
``/static/vendor/``). The OpenAPI document's security schemes, which make Swagger UI offer
"Authorize", are declared by ``gateway.openapi`` with every operation's requirements.

FastAPI's pages carry one inline script (Swagger UI's initialisation); its exact text is
allowed by hash in that page's CSP, nothing else inline. ReDoc generates its styles at run
time, so its page alone allows ``style-src 'unsafe-inline'`` (no script exception).
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gateway.portal.security import content_security_policy, sha256_source

SWAGGER_JS = "/static/vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "/static/vendor/swagger-ui/swagger-ui.css"
REDOC_JS = "/static/vendor/redoc/redoc.standalone.js"
FAVICON = "/static/img/favicon.svg"
_INLINE = re.compile(r"<(script|style)(?![^>]*\bsrc=)[^>]*>(.*?)</\1>", re.S)


def _hashes(html: str, kind: str) -> list[str]:
    return [sha256_source(body) for tag, body in _INLINE.findall(html) if tag == kind]


def install(app: FastAPI) -> None:
    """Mount ``/docs``, ``/docs/oauth2-redirect`` and ``/redoc``. The app is built with
    ``docs_url=None, redoc_url=None``."""
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=FAVICON,
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_ui_parameters={"persistAuthorization": True},
        )
        html = bytes(page.body).decode()
        csp = content_security_policy(script=_hashes(html, "script"), style=_hashes(html, "style"))
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html

        page = get_swagger_ui_oauth2_redirect_html()
        html = bytes(page.body).decode()
        csp = content_security_policy(script=_hashes(html, "script"))
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title}: API",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
        html = bytes(page.body).decode()
        csp = content_security_policy(style=["'unsafe-inline'"]).replace(
            "worker-src 'self'", "worker-src 'self' blob:"
        )
        return HTMLResponse(html, headers={"Content-Security-Policy": csp})
