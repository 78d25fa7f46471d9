"""Declarations built from ``flow.json``: each flow's audited actions, its processing
activity for the Art. 30 register and its draft retention, so that a flow writes no Python
for them. A flow that overrides :meth:`commons.flows.Flow.declarations` declares itself."""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType

from commons.components import Component, Registry
from commons.flows import Flow, FlowDefinition
from compliance import ActionType, ProcessingActivity, RetentionPolicy


def declarations_for(definition: FlowDefinition) -> ModuleType:
    """``ACTIONS``, ``ACTIVITIES`` and ``RETENTION`` of one flow, from its definition."""
    flow_id = definition.id
    processing = definition.processing
    module = ModuleType(f"gateway.flows.declarations.{flow_id.replace('-', '_')}")
    title = definition.title
    module.ACTIONS = (  # type: ignore[attr-defined]
        ActionType(
            f"flow.{flow_id}.draft.save",
            "sealed application draft",
            f"Your sealed draft ({title.en}) was saved.",
            f"Ihr versiegelter Entwurf ({title.de}) wurde gespeichert.",
        ),
        ActionType(
            f"flow.{flow_id}.draft.read",
            "sealed application draft",
            f"Your sealed draft ({title.en}) was fetched.",
            f"Ihr versiegelter Entwurf ({title.de}) wurde abgerufen.",
        ),
        ActionType(
            f"flow.{flow_id}.submission.send",
            "sealed application",
            f"Your sealed application ({title.en}) was sent to the immigration authority.",
            f"Ihr versiegelter Antrag ({title.de}) wurde an die Ausländerbehörde gesendet.",
        ),
    )
    module.ACTIVITIES = (  # type: ignore[attr-defined]
        ProcessingActivity(
            id=f"flow.{flow_id}",
            name=f"{title.en} ({definition.legal_basis})",
            purpose=processing.purpose,
            data_categories=processing.data_categories,
            data_subjects=processing.data_subjects,
            recipients=processing.recipients,
            legal_basis=processing.legal_basis,
            retention=processing.retention,
            name_de=f"{title.de} ({definition.legal_basis})",
        ),
    )
    module.RETENTION = (  # type: ignore[attr-defined]
        RetentionPolicy(
            f"flow.{flow_id}.draft",
            timedelta(days=definition.draft_retention_days),
            "Art. 5(1)(e) GDPR (storage limitation)",
            f"Abandoned sealed drafts of {title.en}, after the last change",
        ),
    )
    return module


def catalogue_declarations(registry: Registry) -> ModuleType:
    """One module with the declarations of every installed flow that does not declare
    itself (a malformed flow is skipped: its own startup problem names it)."""
    from gateway.flows.service import definitions

    module = ModuleType("gateway.flows.declarations.all")
    actions, activities, retention = [], [], []
    defs = definitions(registry)
    for flow in registry:
        if not isinstance(flow, Flow) or type(flow).declarations is not Component.declarations:
            continue
        definition = defs.get(flow.name.removeprefix("flow-"))
        if definition is None:
            continue
        own = declarations_for(definition)
        actions += own.ACTIONS
        activities += own.ACTIVITIES
        retention += own.RETENTION
    module.ACTIONS = tuple(actions)  # type: ignore[attr-defined]
    module.ACTIVITIES = tuple(activities)  # type: ignore[attr-defined]
    module.RETENTION = tuple(retention)  # type: ignore[attr-defined]
    return module
