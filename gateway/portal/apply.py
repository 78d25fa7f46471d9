"""The applicant's way through a permit route in the browser: ``/apply`` (choose a route)
and ``/apply/{flow}`` (the form, step by step, then fee, payment and submission).

The server renders only the *empty* form, built from the flow's JSON Schema (labels and
help from its ``x-i18n``); every value, the sealed draft, the fee facts and the encryption
to the authority live in the browser (``static/js/apply*.js``). See docs/portal.md,
"Apply".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from gateway.client.flowdata.validation import DEFAULT_MESSAGES  # the same messages
from gateway.portal import i18n
from gateway.portal.pages import N_, euros, permit_routes, render, require_login
from gateway.portal.sessions import LiveSession

router = APIRouter(include_in_schema=False)

#: The texts the browser shows, translated here and handed over in the page's JSON block.
BROWSER_TEXTS = {
    "problems": N_("There is a problem"),
    "step": N_("Step %(n)s of %(total)s"),
    "saved": N_("Your draft is saved, encrypted with your vault key."),
    "resumed": N_("Your saved draft is loaded."),
    "unreadable": N_("Your saved draft cannot be opened with this vault key."),
    "locked": N_("Unlock your vault key to save or resume your application."),
    "failed": N_("That did not work. Please try again."),
    "yes": N_("yes"),
    "no": N_("no"),
    "empty": N_("(not given)"),
    "change": N_("Change"),
    "entry": N_("Entry %(n)s"),
    "quote": N_("The fee is %(amount)s euros."),
    "paid": N_("The fee is paid."),
    "not_paid": N_("The payment did not go through. You can try again."),
    "missing": N_("Choose a document for: %(type)s"),
    "no_documents": N_("Your vault has no documents yet. Upload them first."),
    "submitting": N_("Your application is being encrypted and sent…"),
    "submitted": N_("Your application is submitted. Keep the receipt."),
    "bad_key": N_("The authority's key could not be verified, so nothing was sent."),
    "receipt_mismatch": N_("The receipt does not attest what this device sent."),
    "too_large": N_(
        "A document is larger than 64 MiB, more than the browser can encrypt for an "
        "application, so nothing was sent."
    ),
}


@dataclass
class Field:
    """One node of the rendered form: a leaf input, a group (object) or a list (array)."""

    kind: str  # text | number | integer | date | email | tel | select | checkbox | group | list
    pointer: str
    label: str
    hint: str = ""
    required: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    item: Field | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return "f" + self.pointer.replace("/", "-").replace("~", "_")


def _text(node: Mapping[str, Any], key: str, lang: str) -> str:
    texts = (node.get("x-i18n") or {}).get(key) or {}
    return str(texts.get(lang) or texts.get("en") or node.get(key) or "")


def _option_label(node: Mapping[str, Any], value: Any, lang: str) -> str:
    labels = ((node.get("x-i18n") or {}).get("enum") or {}).get(str(value)) or {}
    return str(labels.get(lang) or labels.get("en") or value)


def _leaf_kind(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if "enum" in node:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return str(kind)
    fmt = node.get("format")
    if fmt == "date":
        return "date"
    if fmt == "email":
        return "email"
    return "text"


def build(node: Mapping[str, Any], pointer: str, lang: str, required: bool = False) -> Field:
    """The field tree of the schema ``node`` at ``pointer`` (array items get the pointer
    token ``__i__``, which the browser replaces with the entry's index)."""
    label = _text(node, "title", lang) or pointer.rsplit("/", 1)[-1]
    hint = _text(node, "description", lang)
    kind = node.get("type")
    if kind == "object":
        needed = set(node.get("required") or ())
        children = [
            build(child, f"{pointer}/{name}", lang, name in needed)
            for name, child in (node.get("properties") or {}).items()
        ]
        return Field("group", pointer, label, hint, required, children=children)
    if kind == "array":
        item = build(node.get("items") or {}, f"{pointer}/__i__", lang, True)
        attrs = {k: node[k] for k in ("minItems", "maxItems") if k in node}
        return Field("list", pointer, label, hint, required, item=item, attrs=attrs)
    leaf = _leaf_kind(node)
    options = [(str(v), _option_label(node, v, lang)) for v in node.get("enum") or ()]
    attrs = {}
    if leaf in ("integer", "number"):
        attrs = {k: node[k] for k in ("minimum", "maximum") if k in node}
    if leaf == "text" and "maxLength" in node:
        attrs["maxlength"] = node["maxLength"]
    return Field(leaf, pointer, label, hint, required, options=options, attrs=attrs)


def steps(schema: Mapping[str, Any], lang: str) -> list[Field]:
    """One step per top-level property (a leaf at the top gets a step of its own)."""
    root = build(schema, "", lang)
    return [
        child if child.kind == "group" else Field("group", child.pointer, child.label,
                                                  children=[child], attrs={"wrapper": True})
        for child in root.children
    ]  # fmt: skip


def _flow_language(lang: str) -> str:
    return lang if lang in ("de", "en") else "en"


def _text_in(texts: Mapping[str, str], lang: str) -> str:
    return str(texts.get(lang) or texts.get("en") or next(iter(texts.values()), ""))


# --------------------------------------------------------------------------- pages
@router.get("/apply", response_class=HTMLResponse)
def choose(request: Request) -> Response:
    """Every installed permit route: who it is for, the documents it needs, the fee."""
    from gateway.flows.service import definitions

    fees = {route.id: route.fee_cents for route in permit_routes(request)}
    flows = [d.metadata_json() for d in definitions(request.app.state.components).values()]
    return render(
        request, "apply/choose.html", flows=flows, fees=fees, euros=euros, text_in=_text_in
    )


@router.get("/apply/trust.json")
def trust(request: Request) -> Response:
    """The pinned roots and CRLs (PEM) the browser validates a destination key's x5c chain
    with: the same the authorities registry validates them with."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from gateway.authorities import registry_trust

    pinned = registry_trust(request.app.state.settings)
    body = {
        "anchors": [c.public_bytes(Encoding.PEM).decode() for c in pinned.anchors],
        "crls": [c.public_bytes(Encoding.PEM).decode() for c in pinned.revocation.crls],
    }
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


@router.get("/apply/{flow_id}", response_class=HTMLResponse)
def form(request: Request, flow_id: str) -> Response:
    """The empty form of ``flow_id``; the browser fills, checks, seals and submits it."""
    from gateway.flows import service

    live = require_login(request)
    if not isinstance(live, LiveSession):
        return live
    catalogue = request.app.state.flows
    if flow_id not in catalogue:
        return render(request, "apply/unknown.html", status=404, live=live)
    flow = service.get(catalogue, flow_id).public_json()
    return render(
        request,
        "apply/form.html",
        live=live,
        flow=flow,
        steps_in=lambda code: steps(flow["schema"], _flow_language(code)),
        flow_language=_flow_language,
        text_in=_text_in,
        browser_texts=BROWSER_TEXTS,
        browser_texts_in=lambda texts: {k: i18n.gettext(v) for k, v in texts.items()},
        default_messages=DEFAULT_MESSAGES,
    )
