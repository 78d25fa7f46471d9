""" "My data" (``/account/data``): the applicant's GDPR rights in the browser.

The page is an empty frame; ``static/js/mydata.js`` calls the account API with the session
cookie: the Art. 15/20 export (``GET /v1/me/export``, shown readable and downloadable as JSON
and as a self-contained HTML file made on the device), consents (``/v1/me/consents``), the
profile (``GET /v1/me``, ``PUT /v1/me/attributes/{name}``), the e-mail notice
(``PUT /v1/me/notifications``) and erasure (``DELETE /v1/me``) after the applicant typed the
confirmation word, with the signed receipt shown and downloadable.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.portal.pages import N_, render, require_login
from gateway.portal.sessions import LiveSession

router = APIRouter(include_in_schema=False)

#: Consents the portal asks for: purpose id -> the text the applicant agrees to. The
#: version is recorded with the consent (``text_version``); change it with the text.
CONSENTS = {
    "reuse-documents": N_(
        "The immigration authority may reuse the documents I shared for a later application."
    ),
    "contact-by-phone": N_("The immigration authority may call me about my application."),
}
CONSENT_TEXT_VERSION = "portal-consent-1"
CONSENT_LEGAL_BASIS = "Art. 6(1)(a), Art. 7 GDPR"

#: Self-entered profile attributes (``account.schemas.AttributeName``); IdP ones are refused.
ATTRIBUTES = {
    "given_name": N_("Given names"),
    "family_name": N_("Family name"),
    "birthdate": N_("Date of birth"),
    "nationality": N_("Nationality"),
    "address": N_("Address"),
    "email": N_("E-mail address"),
    "locale": N_("Preferred language"),
}

SCRIPT_STRINGS = {
    "confirm_word": N_("ERASE"),
    "confirm_wrong": N_("Type the word exactly as shown to confirm."),
    "failed": N_("That did not work:"),
    "saved": N_("Saved."),
    "given": N_("Consent given."),
    "withdrawn": N_("Consent withdrawn."),
    "withdraw": N_("Withdraw"),
    "active": N_("active"),
    "withdrawn_at": N_("withdrawn on {at}"),
    "no_consents": N_("You have not given any consent."),
    "no_attributes": N_("No profile data yet."),
    "source_idp": N_("from your sign-in (correct it there)"),
    "source_applicant": N_("entered by you"),
    "export_title": N_("Your data at ozg-commons"),
    "exported_at": N_("Exported at {at}"),
    "empty": N_("(none)"),
    "erased": N_("Your account has been erased. Keep the receipt below as proof."),
    "receipt_valid": N_("Signature of the receipt checked: valid."),
    "about_what": N_("What"),
    "about_why": N_("Why"),
    "about_legal_basis": N_("Legal basis"),
    "about_recipients": N_("Who receives it"),
    "about_how_long": N_("How long"),
}


@router.get("/account/data", response_class=HTMLResponse)
def my_data(request: Request) -> Response:
    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    return render(
        request,
        "mydata/data.html",
        live=live,
        consents=CONSENTS,
        consent_version=CONSENT_TEXT_VERSION,
        consent_basis=CONSENT_LEGAL_BASIS,
        attributes=ATTRIBUTES,
        script_strings=SCRIPT_STRINGS,
    )
