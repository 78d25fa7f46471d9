"""The portal's pages, headers, languages and the offline API docs (no browser needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient

from gateway.portal.i18n import LOCALES_DIR, Catalogues, pseudo_rtl

PAGES = ("/", "/easy-read", "/accessibility", "/imprint", "/privacy", "/apply", "/documents")
PORTAL = Path(__file__).resolve().parents[3] / "gateway" / "portal"


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_security_headers_and_a_strict_csp(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp.replace("'wasm-unsafe-eval'", "")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_outside_and_run_no_inline_script(
    client: TestClient, path: str
) -> None:
    html = client.get(path).text
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers


def test_the_root_url_is_the_start_page_with_the_typical_fee(client: TestClient) -> None:
    german = client.get("/")
    assert '<html lang="de" dir="ltr">' in german.text
    assert "Die meisten Aufenthaltstitel kosten 100 Euro." in german.text
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Most residence permits cost 100 euros." in english.text
    assert english.headers["content-language"] == "en"


def test_the_language_switch_sets_a_cookie_and_returns_to_the_page(client: TestClient) -> None:
    response = client.get("/language/en?next=/accessibility", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/accessibility"
    assert "ozg_lang=en" in response.headers["set-cookie"]
    assert "Accessibility statement" in client.get("/accessibility").text
    evil = client.get("/language/en?next=//evil.example/", follow_redirects=False)
    assert evil.headers["location"] == "/"


def test_the_pseudo_rtl_locale_renders_right_to_left(client: TestClient) -> None:
    client.cookies.set("ozg_lang", "ar-XB")
    html = client.get("/").text
    assert '<html lang="ar-XB" dir="rtl">' in html
    assert pseudo_rtl("Skip to main content") in html


def test_the_pseudo_locale_is_not_offered_in_production_settings() -> None:
    assert "ar-XB" not in Catalogues.load(pseudo=False).languages
    assert list(Catalogues.load(pseudo=True).languages)[:2] == ["de", "en"]


def test_a_new_language_is_a_data_change(tmp_path: Path) -> None:
    """Dropping a .po file in is all it takes; Arabic comes out right to left."""
    import shutil

    shutil.copytree(LOCALES_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "ar" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "ar" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Start"\nmsgstr "البداية"\n',
        encoding="utf-8",
    )
    languages = Catalogues.load(pseudo=False, directory=tmp_path).languages
    assert languages["ar"].direction == "rtl"
    assert languages["ar"].translations.gettext("Start") == "البداية"
    assert languages["de"].direction == "ltr"


def _catalogue_ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {str(m.id[0] if isinstance(m.id, tuple) else m.id) for m in read_po(handle) if m.id}


def _message_sources() -> list[Path]:
    """The packages ``make messages`` extracts from: the portal's and the command line's
    messages share one catalogue (``commons.i18n``)."""
    root = PORTAL.parents[1]
    line = next(
        line
        for line in (root / "Makefile").read_text().splitlines()
        if line.startswith("MESSAGE_SOURCES")
    )
    return [root / name for name in line.partition(":=")[2].split()]


def test_the_message_catalogue_is_complete_and_current() -> None:
    """Every string in the code and templates is in the .pot, and German translates all
    (with the command line's help texts: ``commons.i18n_extract``, as ``babel.cfg`` says)."""
    method_map = [("**.py", "commons.i18n_extract:extract"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    extracted = {
        str(message[2][0] if isinstance(message[2], tuple) else message[2])
        for source in _message_sources()
        for message in extract_from_dir(
            source,
            method_map,
            options,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
        )
    }
    assert PORTAL in _message_sources() or PORTAL.parent in _message_sources()
    template = _catalogue_ids(LOCALES_DIR / "messages.pot")
    assert extracted == template, "run pybabel extract (docs/portal.md) and update the .po"
    with (LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        german = read_po(handle)
    untranslated = [
        m.id for m in german if m.id and not (all(m.string or ()) if m.pluralizable else m.string)
    ]
    assert untranslated == []
    assert _catalogue_ids(LOCALES_DIR / "de" / "LC_MESSAGES" / "messages.po") == template
    assert _catalogue_ids(LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po") == template


def test_the_dgs_video_has_a_placeholder_until_the_operator_sets_one(
    client: TestClient,
) -> None:
    assert "Das Video in Deutscher Gebärdensprache (DGS) wird vorbereitet" in client.get("/").text
    assert client.get("/dgs-video").status_code == 404


def test_the_dgs_video_is_served_locally_when_set(tmp_path: Path, database_url: str) -> None:
    from commons.settings import Settings
    from gateway.app import create_app

    video = tmp_path / "dgs.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=database_url,
        sections={"portal": {"dgs_video_file": str(video)}},
    )
    client = TestClient(create_app(settings))
    assert '<video controls preload="metadata" src="/dgs-video"' in client.get("/").text
    served = client.get("/dgs-video")
    assert served.status_code == 200
    assert served.content == video.read_bytes()


def test_production_needs_imprint_privacy_and_a_feedback_address() -> None:
    from commons.settings import Settings
    from gateway.portal.runtime import config_problems

    problems = " ".join(config_problems(Settings(env="production")))
    for name in ("IMPRINT_FILE", "PRIVACY_FILE", "ACCESSIBILITY_CONTACT"):
        assert f"OZG_PORTAL_{name}" in problems


# --------------------------------------------------------------------------- API docs
def test_swagger_ui_and_redoc_are_served_from_local_assets(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert 'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in docs.text
    assert 'href="/static/vendor/swagger-ui/swagger-ui.css"' in docs.text
    assert "cdn." not in docs.text
    # its one initialising script is allowed by its hash, nothing else inline
    csp = docs.headers["content-security-policy"]
    assert "'sha256-" in csp
    assert "'unsafe-inline'" not in csp.split("style-src")[0]
    redoc = client.get("/redoc")
    assert 'src="/static/vendor/redoc/redoc.standalone.js"' in redoc.text
    assert "fonts.googleapis" not in redoc.text


@pytest.mark.browser  # needs the npm assets, like the browser tests
@pytest.mark.parametrize(
    "asset",
    [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/redoc/redoc.standalone.js",
        "/static/vendor/kern/kern.min.css",
        "/static/vendor/kern/fonts/fira-sans/FiraSans-Regular.woff2",
    ],
)
def test_vendor_assets_are_installed_and_served(client: TestClient, asset: str) -> None:
    from gateway.portal.assets import installed

    if not installed():
        pytest.skip("needs the portal's npm assets: make test (npm ci + gateway.portal.assets)")
    response = client.get(asset)
    assert response.status_code == 200, "run `make test` (npm ci + python -m gateway.portal.assets)"
    assert len(response.content) > 1000


def test_the_openapi_document_declares_bearer_and_cookie_security(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schema["paths"]["/v1/me"]["get"]["security"] == [
        {"bearerAuth": []},
        {"openIdConnect": []},
        {"sessionCookie": []},
    ]
    erase = schema["paths"]["/v1/me"]["delete"]["security"]
    assert {"sessionCookie": [], "csrfToken": []} in erase  # a change needs the CSRF header
    assert "security" not in schema["paths"]["/healthz"]["get"]


def test_the_default_cdn_docs_are_gone(app: FastAPI) -> None:
    assert app.docs_url is None
    assert app.redoc_url is None


def test_the_dev_login_page_labels_its_inputs(client: TestClient) -> None:
    html = client.get("/dev-idp/realms/ozg-dev/protocol/openid-connect/auth").text
    assert '<html lang="en">' in html
    assert "<h1" in html
    assert '<label for="username">' in html
    assert '<label for="password">' in html
