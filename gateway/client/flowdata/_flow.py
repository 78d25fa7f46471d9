"""The flow as the interpreters read it: the public JSON of ``GET /v1/flows/{id}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commons.flows import FlowDefinition

FlowLike = FlowDefinition | Mapping[str, Any]


def public(flow: FlowLike) -> Mapping[str, Any]:
    return flow.public_json() if isinstance(flow, FlowDefinition) else flow


def text(value: Any, lang: str) -> str:
    """A ``{"de": ..., "en": ...}`` text in ``lang`` (English when the language is absent)."""
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("en") or "")
    return "" if value is None else str(value)
