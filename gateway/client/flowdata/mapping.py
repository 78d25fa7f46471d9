"""The form mapped onto the flow's XAusländer-oriented structure (``xauslaender.json``)."""

from __future__ import annotations

from typing import Any

from commons.flows import resolve
from gateway.client.flowdata._flow import FlowLike, public

_ABSENT = object()


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split("/")
    node = target
    for name in parents:
        child = node.setdefault(name, {})
        if not isinstance(child, dict):
            raise ValueError(f"the mapping writes both a value and a group at {path!r}")
        node = child
    if leaf in node:
        raise ValueError(f"the mapping writes {path!r} twice")
    node[leaf] = value


def _apply(entries: list[dict[str, Any]], data: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for entry in entries:
        value = entry["const"] if "const" in entry else resolve(data, entry["from"], _ABSENT)
        if value is _ABSENT or value is None:
            continue
        if "each" in entry:
            if not isinstance(value, list):
                continue
            value = [_apply(entry["each"], item) for item in value]
        _put(out, entry["to"], value)
    return out


def xauslaender(flow: FlowLike, data: Any) -> dict[str, Any]:
    """``{"format", "model", "data": {<group>: {...}}}``: every mapped answer at its
    XAusländer path; absent optional answers are left out."""
    mapping = public(flow)["xauslaender"]
    return {
        "format": mapping["format"],
        "model": mapping["model"],
        "data": _apply(mapping["mappings"], data),
    }
