"""The cases settings section (``OZG_CASES_*``) and the component's per-app state.

Per app, ``app.state.cases`` is a :class:`CasesRuntime`: the clock, the flow lookup, the
authority directory and the hook lists other components subscribe to. The cases component
depends on the delivery component (configured first) and plugs into it:

- :meth:`CasesRuntime.submit_check` is appended to ``app.state.delivery.submit_checks``;
- :meth:`CasesRuntime.delivery_event` to ``app.state.delivery.event_hooks`` (submit, accept,
  reject, the 14-day rejection: the case moves, the applicant is told by mailbox);
- ``app.state.case_withdrawal_hooks`` (called in the withdrawing transaction with a
  :class:`WithdrawalNotice`) gets one that records ``withdraw-submission`` in the case's
  FIT-Connect event log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from commons.clock import Clock, system_clock
from gateway.cases.errors import CaseConflict
from gateway.cases.flows import FlowLookup, InstalledFlows

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from account import Notifier
    from commons.settings import Settings
    from payments import PaymentsRuntime

MIB = 1024 * 1024


class CasesSettings(BaseSettings):
    """Drafts: how long an abandoned one is kept, and how large a sealed draft or message
    may be."""

    model_config = SettingsConfigDict(env_prefix="OZG_CASES_", extra="ignore", frozen=True)

    draft_retention_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Days an untouched draft is kept when its flow declares no retention.",
    )
    max_sealed_bytes: int = Field(
        default=MIB,
        ge=4096,
        le=16 * MIB,
        description="Largest sealed draft or sealed mailbox body (an envelope), in bytes.",
    )


@dataclass(frozen=True, slots=True)
class WithdrawalNotice:
    """What a withdrawal hook learns: ids and the time, nothing about the applicant."""

    case_id: str
    authority: str | None
    fit_connect_case_id: str | None
    submission_id: str | None
    at: datetime


WithdrawalHook = Callable[["Session", WithdrawalNotice], None]


@dataclass(frozen=True, slots=True)
class AuthorityInfo:
    id: str
    name_de: str
    name_en: str


@dataclass
class CasesRuntime:
    settings: CasesSettings
    app: Any  # the FastAPI app: other components' state is read when needed, not copied
    clock: Clock = system_clock
    flows: FlowLookup = field(default_factory=lambda: InstalledFlows(()))

    @property
    def withdrawal_hooks(self) -> list[WithdrawalHook]:
        hooks: list[WithdrawalHook] = hook_list(self.app, "case_withdrawal_hooks")
        return hooks

    @property
    def payments(self) -> PaymentsRuntime:
        runtime: PaymentsRuntime = self.app.state.payments
        return runtime

    @property
    def notifier(self) -> Notifier | None:
        notifier: Notifier | None = getattr(self.app.state, "mail_notifier", None)
        return notifier

    def authority(self, authority_id: str, flow_id: str | None = None) -> AuthorityInfo:
        """The authority with this id, from the authorities registry
        (``app.state.authorities``) when it is installed; it raises its 404 naming the known
        ones for an unknown id. Without a registry (a deployment of the domains alone) the
        id stands for itself."""
        registry = getattr(self.app.state, "authorities", None)
        if registry is None:
            return AuthorityInfo(authority_id, authority_id, authority_id)
        if callable(getattr(registry, "registry", None)):  # the authorities component's state
            registry = registry.registry()
        found = registry.get(authority_id)
        flows = getattr(found, "flows", None)
        if flow_id is not None and flows is not None and flow_id not in flows:
            raise CaseConflict(f"authority {authority_id!r} does not accept the flow {flow_id!r}")
        return AuthorityInfo(found.id, found.name.de, found.name.en)

    def submit_check(self, session: Session, submission: Any) -> list[Any]:
        """The delivery service's ``SubmitCheck`` (see :mod:`gateway.cases.manifest`)."""
        from gateway.cases.manifest import submit_check

        return list(submit_check(session, self, submission))

    def on_delivery_event(self, session: Session, case_id: str, event: str, **links: Any) -> bool:
        """Move a case for a FIT-Connect event (see :mod:`gateway.cases.manifest`)."""
        from gateway.cases.manifest import on_delivery_event

        return on_delivery_event(session, self, case_id, event, **links)

    def submission_event(self, session: Session, submission: Any, event: str) -> bool:
        """:meth:`on_delivery_event` for a delivery submission row (case from its manifest)."""
        from gateway.cases.manifest import submission_event

        return submission_event(session, self, submission, event)

    def delivery_event(self, session: Session, submission: Any, event: str) -> None:
        """The delivery service's ``EventHook``."""
        self.submission_event(session, submission, event)

    def draft_retention_days(self, flow_days: int | None) -> int:
        """The extension point of draft retention: the flow's own period when it declares
        one, else the deployment's default."""
        return flow_days if flow_days is not None else self.settings.draft_retention_days


def hook_list(app: FastAPI, name: str) -> list[Any]:
    """The hook list ``app.state.<name>``, created empty by whoever asks first."""
    hooks: list[Any] | None = getattr(app.state, name, None)
    if hooks is None:
        hooks = []
        setattr(app.state, name, hooks)
    return hooks


def configure(app: FastAPI, settings: Settings) -> None:
    runtime = CasesRuntime(
        settings=settings.section(CasesSettings),
        app=app,
        flows=InstalledFlows(app.state.components),
    )
    app.state.cases = runtime
    withdrawal = hook_list(app, "case_withdrawal_hooks")
    delivery = getattr(app.state, "delivery", None)
    if delivery is not None:  # a deployment of cases without the delivery service has none
        delivery.submit_checks.append(runtime.submit_check)
        delivery.event_hooks.append(runtime.delivery_event)
        withdrawal.append(_delivery_withdrawal(delivery))


def _delivery_withdrawal(delivery: Any) -> WithdrawalHook:
    """The withdrawal hook that tells the authority through the case's FIT-Connect event
    log (``withdraw-submission``)."""
    from gateway.delivery.eventlog import withdraw

    def hook(session: Session, notice: WithdrawalNotice) -> None:
        if notice.fit_connect_case_id and notice.submission_id:
            withdraw(session, delivery, notice.fit_connect_case_id, notice.submission_id)

    return hook
