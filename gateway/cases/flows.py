"""What the cases component needs to know about a flow, and where it learns it.

:func:`flow_requirements` answers for one flow id: its version, the trust levels to start and
to submit, the documents it requires, its fee rule and which fee facts its mapping declares,
and how long an abandoned draft is kept. The answer comes from the installed
``commons.flows.Flow`` components (their ``definition``) when that module exists; tests and
deployments without flows give the runtime a lookup of their own
(``app.state.cases.flows = StaticFlows(...)``). This is the one place that reads a flow
definition, so a change of the flow contract is a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Protocol

from account import TrustLevel


@dataclass(frozen=True, slots=True)
class DocumentType:
    type: str
    required: bool
    title_de: str
    title_en: str


@dataclass(frozen=True, slots=True)
class FlowRequirements:
    id: str
    version: str
    trust_to_start: TrustLevel = TrustLevel.BASIS
    trust_to_submit: TrustLevel = TrustLevel.BASIS
    documents: tuple[DocumentType, ...] = ()
    fee_rule: Mapping[str, Any] = field(default_factory=dict)
    """``procedure`` and ``express_available``, as payments' ``FeeRule`` takes them."""
    fee_facts: frozenset[str] = frozenset()
    """The case facts the flow's fee mapping declares: all the client may send."""
    fee_fixed: Mapping[str, Any] = field(default_factory=dict)
    """Facts the flow fixes for every case (e.g. ``permit_type``)."""
    draft_retention_days: int | None = None
    """``None``: the deployment's default (``OZG_CASES_DRAFT_RETENTION_DAYS``)."""

    @property
    def required_documents(self) -> tuple[DocumentType, ...]:
        return tuple(d for d in self.documents if d.required)


class FlowLookup(Protocol):
    def __call__(self, flow_id: str) -> FlowRequirements | None:
        """The requirements of ``flow_id``, or ``None`` when no such flow is installed."""
        ...

    def known(self) -> list[str]:
        """The installed flow ids (for the 404 that names them)."""
        ...


class StaticFlows:
    """A fixed set of flows (tests; deployments that configure flows by hand)."""

    def __init__(self, flows: Iterable[FlowRequirements]) -> None:
        self._flows = {f.id: f for f in flows}

    def __call__(self, flow_id: str) -> FlowRequirements | None:
        return self._flows.get(flow_id)

    def known(self) -> list[str]:
        return sorted(self._flows)


_LEVELS = {"basis": TrustLevel.BASIS, "substantiell": TrustLevel.SUBSTANTIELL}
_LEVELS["hoch"] = TrustLevel.HOCH


def from_definition(definition: Any) -> FlowRequirements:
    """Requirements from a ``commons.flows.FlowDefinition`` (flow.json, format ozg-flow/1)."""
    fee: Mapping[str, Any] = definition.fee or {}
    return FlowRequirements(
        id=definition.id,
        version=definition.version,
        trust_to_start=_LEVELS[definition.trust_to_start],
        trust_to_submit=_LEVELS[definition.trust_to_submit],
        documents=tuple(
            DocumentType(d.type, bool(d.required), d.title.de, d.title.en)
            for d in definition.documents
        ),
        fee_rule={
            "procedure": fee.get("procedure"),
            "express_available": bool(fee.get("express_available", False)),
        },
        fee_facts=frozenset(fee.get("facts", {})),
        fee_fixed=dict(fee.get("fixed", {})),
        draft_retention_days=definition.draft_retention_days,
    )


class InstalledFlows:
    """The flows among the app's installed components (``commons.flows.Flow``)."""

    def __init__(self, components: Iterable[Any]) -> None:
        self._components = list(components)

    def _flows(self) -> dict[str, FlowRequirements]:
        try:
            flow_type = import_module("commons.flows").Flow
        except (ImportError, AttributeError):
            return {}  # no flow contract installed: no flows
        found: dict[str, FlowRequirements] = {}
        for component in self._components:
            if isinstance(component, flow_type):
                requirements = from_definition(component.definition)
                found[requirements.id] = requirements
        return found

    def __call__(self, flow_id: str) -> FlowRequirements | None:
        return self._flows().get(flow_id)

    def known(self) -> list[str]:
        return sorted(self._flows())
