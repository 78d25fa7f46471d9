"""Cases: an application's lifecycle from the sealed draft to the authority's decision.

A case links the applicant, a permit flow, the chosen authority, the draft (sealed on the
device to the applicant's vault key), the fee quote and payment, and one FIT-Connect
submission of the delivery component. See docs/cases.md.

What other components call (the delivery component in particular):

- :class:`Problem`, :func:`evaluate` and :func:`check_manifest`: the manifest rules of a
  submission; ``app.state.cases.submit_check`` is the ``SubmitCheck`` registered on
  ``app.state.delivery.submit_checks``;
- ``app.state.cases.on_delivery_event(session, case_id, event, ...)`` (and
  ``.submission_event(session, submission, event)``): move a case for a FIT-Connect event;
- ``app.state.case_withdrawal_hooks``: subscribe with a :data:`WithdrawalHook` to learn of
  withdrawals (:class:`WithdrawalNotice`);
- :class:`FlowRequirements`, :class:`StaticFlows`: what the component needs of a flow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.cases.flows import DocumentType, FlowRequirements, StaticFlows
    from gateway.cases.manifest import (
        MANIFEST_FORMAT,
        Manifest,
        Problem,
        check_manifest,
        evaluate,
        on_delivery_event,
        parse_manifest,
    )
    from gateway.cases.runtime import CasesRuntime, WithdrawalHook, WithdrawalNotice
    from gateway.cases.states import CaseState

_EXPORTS = {
    "CaseState": "gateway.cases.states",
    "CasesRuntime": "gateway.cases.runtime",
    "DocumentType": "gateway.cases.flows",
    "FlowRequirements": "gateway.cases.flows",
    "MANIFEST_FORMAT": "gateway.cases.manifest",
    "Manifest": "gateway.cases.manifest",
    "Problem": "gateway.cases.manifest",
    "StaticFlows": "gateway.cases.flows",
    "WithdrawalHook": "gateway.cases.runtime",
    "WithdrawalNotice": "gateway.cases.runtime",
    "check_manifest": "gateway.cases.manifest",
    "evaluate": "gateway.cases.manifest",
    "on_delivery_event": "gateway.cases.manifest",
    "parse_manifest": "gateway.cases.manifest",
}

__all__ = [
    "MANIFEST_FORMAT",
    "CaseState",
    "CasesRuntime",
    "DocumentType",
    "FlowRequirements",
    "Manifest",
    "Problem",
    "StaticFlows",
    "WithdrawalHook",
    "WithdrawalNotice",
    "check_manifest",
    "evaluate",
    "on_delivery_event",
    "parse_manifest",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
