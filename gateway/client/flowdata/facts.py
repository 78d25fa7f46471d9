"""The fee facts a flow declares, derived from the form on the device. The server learns
exactly these (and the applicant sees them first), never the answers they come from."""

from __future__ import annotations

from datetime import date
from typing import Any

from commons.flows import resolve
from gateway.client.flowdata._flow import FlowLike, public


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _derive(spec: dict[str, Any], value: Any, today: date) -> Any:
    derive = spec.get("derive", "value")
    if derive == "value":
        return value
    if derive == "age":
        return _age(date.fromisoformat(value), today)
    if derive == "age_band":
        age = _age(date.fromisoformat(value), today)
        for band in spec["bands"]:
            if age < band["below"]:
                return band["value"]
        return spec["otherwise"]
    if derive == "map":
        if value not in spec["map"]:
            raise ValueError(f"no fee fact for the answer at {spec['from']}")
        return spec["map"][value]
    if derive == "equals":
        return value == spec["value"]
    raise ValueError(f"unknown derivation {derive!r}")


def fee_facts(flow: FlowLike, data: Any, today: date) -> dict[str, Any]:
    """The flow's ``fee.fixed`` facts plus each of its ``fee.facts`` derived from ``data``
    (``default`` when the answer is absent; a fact without answer or default is left out,
    and the fee calculator says which it needs)."""
    fee = public(flow)["fee"]
    facts: dict[str, Any] = dict(fee.get("fixed", {}))
    for fact, spec in fee.get("facts", {}).items():
        value = resolve(data, spec["from"])
        if value is None:
            if "default" in spec:
                facts[fact] = spec["default"]
            continue
        facts[fact] = _derive(spec, value, today)
    return facts
