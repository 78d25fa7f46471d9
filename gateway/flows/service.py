"""The installed flows, as the catalogue serves them. No HTTP here."""

from __future__ import annotations

from commons.components import Registry
from commons.errors import NotFound
from commons.flows import Flow, FlowDefinition, FlowDefinitionError
from commons.i18n import N_


class UnknownFlow(NotFound):
    code = "unknown-flow"
    title = N_("Unknown flow")


def installed_flows(registry: Registry) -> list[Flow]:
    """Every installed component that is a :class:`Flow`, in registry order."""
    return [c for c in registry if isinstance(c, Flow)]


def definitions(registry: Registry) -> dict[str, FlowDefinition]:
    """The loadable flows' definitions by flow id (a malformed flow is a startup problem of
    its own and is left out here)."""
    found: dict[str, FlowDefinition] = {}
    for flow in installed_flows(registry):
        try:
            definition = flow.definition
        except FlowDefinitionError:
            continue
        found[definition.id] = definition
    return dict(sorted(found.items()))


def get(catalogue: dict[str, FlowDefinition], flow_id: str) -> FlowDefinition:
    try:
        return catalogue[flow_id]
    except KeyError:
        known = ", ".join(catalogue) or "none"
        raise UnknownFlow(f"no flow {flow_id!r}; the known flows are: {known}") from None


def fee_problems(registry: Registry) -> list[str]:
    """A flow whose fee procedure the fee catalogue does not define cannot quote a fee."""
    from payments import known_procedures

    known = known_procedures()
    return [
        f"flow {d.id!r}: fee.procedure {d.fee['procedure']!r} is not in the fee catalogue "
        f"(known: {', '.join(sorted(known))})"
        for d in definitions(registry).values()
        if d.fee["procedure"] not in known
    ]
