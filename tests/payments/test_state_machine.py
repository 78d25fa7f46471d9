"""Property test: random sequences of notifications, status queries, retries and refunds
never produce an illegal state, a double booking, or refunds above the amount paid."""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select
from sqlalchemy.orm import Session

from commons.db import Database
from commons.settings import Settings
from payments import notifications, quotes, refunds, service, signing
from payments.errors import (
    IdempotencyConflict,
    InvalidNotification,
    PaymentConflict,
    ProviderError,
)
from payments.models import Payment, Refund, SandboxTransaction, Transition
from payments.runtime import PaymentsRuntime
from payments.schemas import QuoteRequest
from payments.states import PAID_STATES, TRANSITIONS, PaymentState
from tests import factories
from tests.payments.conftest import quote_body

FLOW = factories.flow_client("machine-flow")
CASEWORKER = factories.caseworker("tf")
STATUSES = st.sampled_from(["INITIAL", "BOOKED", "FAILED", "CANCELED"])
EVENTS = st.sampled_from([f"evt-{i}" for i in range(6)])
KEYS = st.sampled_from([f"key-{i}" for i in range(4)])
AMOUNTS: st.SearchStrategy[int | str] = st.one_of(
    st.sampled_from(["rest", "rest+1", "half"]), st.integers(min_value=-5, max_value=12000)
)
STATS: dict[str, int] = {}


def test_payment_state_machine(database: Database, settings: Settings) -> None:
    runtime = PaymentsRuntime.from_settings(settings)

    class PaymentMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self._tx: AbstractContextManager[Session] = database.transaction()
            self.session = self._tx.__enter__()
            quote = quotes.create_quote(
                self.session, runtime, FLOW, QuoteRequest.model_validate(quote_body())
            )
            self.quote_id = quote.id
            self.payment = service.create_payment(
                self.session,
                runtime,
                FLOW,
                quote_id=quote.id,
                return_url="https://flow.example/done",
                idempotency_key=f"create-{quote.id}",
            )
            self.reference = str(self.payment.provider_reference)
            self.secret = str(runtime.config_for("tf").settings["notification_secret"]).encode()
            self.sent: dict[str, bytes] = {}
            self.refund_params: dict[str, int] = {}

        def teardown(self) -> None:
            self._tx.__exit__(None, None, None)

        def _tx_row(self) -> SandboxTransaction:
            tx = self.session.get(SandboxTransaction, self.reference)
            assert tx is not None
            return tx

        def _deliver(self, body: bytes) -> None:
            headers = signing.signed_headers(self.secret, int(time.time()), body)
            notifications.process_notification(
                self.session, runtime, "sandbox", "tf", headers, body
            )

        @rule(outcome=st.sampled_from(["BOOKED", "FAILED", "CANCELED"]))
        def provider_finishes(self, outcome: str) -> None:
            tx = self._tx_row()
            if tx.status == "INITIAL":
                tx.status = outcome

        @rule()
        def applicant_pays(self) -> None:
            """The common path: the provider books, we learn it by a status query."""
            self.provider_finishes("BOOKED")
            self.status_query()

        @rule(status=STATUSES, event=EVENTS)
        def notification(self, status: str, event: str) -> None:
            body = json.dumps(
                {
                    "kind": "status",
                    "event_id": event,
                    "transaction_id": self.reference,
                    "status": status,
                }
            ).encode()
            self.sent.setdefault(event, body)
            self._deliver(body)

        @rule(event=EVENTS)
        def replay(self, event: str) -> None:
            if event in self.sent:
                self._deliver(self.sent[event])

        @rule()
        def forged_notification(self) -> None:
            body = json.dumps(
                {
                    "kind": "status",
                    "event_id": "forged",
                    "transaction_id": self.reference,
                    "status": "BOOKED",
                }
            ).encode()
            headers = signing.signed_headers(b"wrong", int(time.time()), body)
            before = self.payment.state
            try:
                notifications.process_notification(
                    self.session, runtime, "sandbox", "tf", headers, body
                )
            except InvalidNotification:
                pass
            else:  # pragma: no cover - must not happen
                raise AssertionError("forged notification accepted")
            assert self.payment.state == before

        @rule()
        def status_query(self) -> None:
            service.refresh_status(self.session, runtime, self.payment)

        @rule()
        def retry_create(self) -> None:
            again = service.create_payment(
                self.session,
                runtime,
                FLOW,
                quote_id=self.quote_id,
                return_url="https://flow.example/done",
                idempotency_key=f"create-{self.quote_id}",
            )
            assert again.id == self.payment.id

        @rule(choice=AMOUNTS, key=KEYS)
        def refund(self, choice: int | str, key: str) -> None:
            rest = self.payment.amount_cents - self.payment.refunded_cents
            amount = {"rest": rest, "rest+1": rest + 1, "half": rest // 2}.get(str(choice), choice)
            assert isinstance(amount, int)
            try:
                refund = refunds.refund_payment(
                    self.session,
                    runtime,
                    CASEWORKER,
                    self.payment.id,
                    amount_cents=amount,
                    reason=None,
                    idempotency_key=key,
                )
            except IdempotencyConflict:
                assert key in self.refund_params
                assert self.refund_params[key] != amount
            except (PaymentConflict, ProviderError):
                pass
            else:
                STATS["refunds"] = STATS.get("refunds", 0) + 1
                if key in self.refund_params:
                    assert refund.amount_cents == self.refund_params[key]
                self.refund_params.setdefault(key, amount)

        @rule(amount=st.integers(min_value=1, max_value=12000), event=EVENTS)
        def provider_refund(self, amount: int, event: str) -> None:
            body = json.dumps(
                {
                    "kind": "refund",
                    "event_id": "rf-" + event,
                    "transaction_id": self.reference,
                    "refund_cents": amount,
                }
            ).encode()
            self._deliver(body)

        @rule(accept=st.booleans())
        def decide(self, accept: bool) -> None:
            pending = self.session.scalars(
                select(Refund).where(
                    Refund.payment_id == self.payment.id, Refund.state == "needs_review"
                )
            ).first()
            if pending is None:
                return
            try:
                refunds.decide_provider_refund(
                    self.session, runtime, CASEWORKER, self.payment.id, pending.id, accept=accept
                )
            except PaymentConflict:
                pass

        # ------------------------------------------------------------------ invariants
        @invariant()
        def state_is_legal(self) -> None:
            state = PaymentState(self.payment.state)
            transitions = self._transitions()
            for step in transitions:
                assert PaymentState(step.to_state) in TRANSITIONS[PaymentState(step.from_state)]
            if transitions:
                assert transitions[-1].to_state == state.value

        @invariant()
        def booked_at_most_once(self) -> None:
            bookings = [t for t in self._transitions() if t.to_state == PaymentState.BOOKED]
            assert len(bookings) <= 1
            paid = PaymentState(self.payment.state) in PAID_STATES
            assert paid == (len(bookings) == 1)
            assert paid == (self.payment.booked_at is not None)
            booked = self.session.scalars(
                select(Payment).where(
                    Payment.quote_id == self.quote_id,
                    Payment.state.in_([s.value for s in PAID_STATES]),
                )
            ).all()
            assert len(booked) <= 1

        @invariant()
        def refunds_never_exceed_the_amount_paid(self) -> None:
            payment = self.payment
            assert 0 <= payment.refunded_cents <= payment.amount_cents
            if PaymentState(payment.state) not in PAID_STATES:
                assert payment.refunded_cents == 0
            counted = self.session.scalars(
                select(Refund.amount_cents).where(
                    Refund.payment_id == payment.id,
                    Refund.state.in_(["succeeded", "manual", "accepted"]),
                )
            ).all()
            assert sum(counted) == payment.refunded_cents
            if payment.refunded_cents == payment.amount_cents:
                assert payment.state == PaymentState.REFUNDED
            elif payment.refunded_cents > 0:
                assert payment.state == PaymentState.PARTIALLY_REFUNDED

        def _transitions(self) -> list[Any]:
            return list(
                self.session.scalars(
                    select(Transition)
                    .where(Transition.payment_id == self.payment.id)
                    .order_by(Transition.seq)
                ).all()
            )

    run_state_machine_as_test(PaymentMachine, settings=settings_for_machine())
    # the machine did reach refunds, not only the trivial paths
    assert STATS.get("refunds", 0) > 0


def settings_for_machine() -> Any:
    # derandomize: the same examples every run, so the "reached refunds" check below is not
    # left to chance (a random run once reached none); other tests keep exploring at random
    return settings(
        derandomize=True,
        max_examples=60,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
