"""What the payments domain declares about the personal data it processes."""

from __future__ import annotations

from datetime import timedelta

from compliance import ActionType, ProcessingActivity, RetentionExecutor, RetentionPolicy
from payments import retention

BOOKING_RETENTION = timedelta(days=3653)
"""⚠ unconfirmed: ten years for accounting vouchers (Buchungsbelege). The exact period
follows the authority's budget law (BHO/LHO and their administrative rules); check it."""
BOOKING_RETENTION_BASIS = (
    "Art. 6(1)(c), 17(3)(b) GDPR with the budget law's retention of accounting vouchers "
    "(§ 71 BHO/LHO and administrative rules)"
)
FEE_BASIS = "Art. 6(1)(e) GDPR with § 69 AufenthG and §§ 44-53 AufenthV (fees)"

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "payments.access_denied",
        "payments",
        "Someone was refused access to one of your fees or payments.",
        "Jemandem wurde der Zugriff auf eine Ihrer Gebühren oder Zahlungen verweigert.",
    ),
    ActionType(
        "payments.quote.create",
        "fee facts",
        "A fee was calculated for your application from the facts it depends on.",
        "Für Ihren Antrag wurde aus den maßgeblichen Angaben eine Gebühr berechnet.",
    ),
    ActionType(
        "payments.quote.read",
        "fee facts",
        "Someone looked at the fee calculation for your application.",
        "Jemand hat die Gebührenberechnung zu Ihrem Antrag angesehen.",
    ),
    ActionType(
        "payments.waiver.create",
        "fee facts",
        "A caseworker waived or reduced your fee.",
        "Eine Sachbearbeiterin oder ein Sachbearbeiter hat Ihre Gebühr erlassen oder ermäßigt.",
    ),
    ActionType(
        "payments.payment.create",
        "payment",
        "A payment for your fee was started.",
        "Eine Zahlung Ihrer Gebühr wurde begonnen.",
    ),
    ActionType(
        "payments.payment.read",
        "payment",
        "Someone looked at a payment of yours.",
        "Jemand hat eine Ihrer Zahlungen angesehen.",
    ),
    ActionType(
        "payments.refund.create",
        "payment",
        "A caseworker refunded (part of) your fee.",
        "Ihre Gebühr wurde (teilweise) erstattet.",
    ),
    ActionType(
        "payments.refund.decide",
        "payment",
        "A caseworker decided on a refund reported by the payment provider.",
        "Über eine vom Zahlungsdienst gemeldete Erstattung wurde entschieden.",
    ),
    ActionType(
        "payments.receipt.read",
        "payment",
        "A receipt for your payment was issued.",
        "Eine Quittung über Ihre Zahlung wurde ausgestellt.",
    ),
    ActionType(
        "payments.reconcile.export",
        "payment",
        "The day's bookings were exported for the cash office.",
        "Die Buchungen des Tages wurden für die Kasse exportiert.",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="payments.fees",
        name="Fee calculation and payment of residence-permit fees",
        purpose="Calculate the AufenthV fee, collect it through a payment platform, book it "
        "in the authority's cash office and refund it where due.",
        data_categories=(
            "fee facts (age, nationality/association status, benefit receipt, refugee status)",
            "payment references (Kassenzeichen, provider reference, amount, status)",
        ),
        data_subjects=("applicants",),
        recipients=(
            "payment platform (pseudonymous Kassenzeichen and amount only)",
            "the authority's cash office",
        ),
        legal_basis=FEE_BASIS,
        retention="Fee facts until erasure of the application; bookings 10 years (⚠).",
        name_de="Berechnung und Zahlung der Gebühren für Aufenthaltstitel",
        purpose_de="Die Gebühr nach der AufenthV berechnen, über eine Zahlungsplattform "
        "einziehen, in der Kasse der Behörde buchen und erstatten, wo sie zurückzuzahlen ist.",
        data_categories_de=(
            "Angaben für die Gebühr (Alter, Staatsangehörigkeit/Assoziationsrecht, Bezug von "
            "Leistungen, Flüchtlingsstatus)",
            "Zahlungsangaben (Kassenzeichen, Referenz des Anbieters, Betrag, Stand)",
        ),
        retention_de="Angaben für die Gebühr bis zur Löschung des Antrags; Buchungen 10 Jahre (⚠).",
    ),
)


def _provider_activities() -> tuple[ProcessingActivity, ...]:
    from payments.providers.sandbox import SandboxPaymentProvider
    from payments.providers.xbezahldienste import XBezahldienstePaymentProvider

    return (SandboxPaymentProvider.processing, XBezahldienstePaymentProvider.processing)


ACTIVITIES = ACTIVITIES + _provider_activities()

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="payments.booking",
        keep_for=BOOKING_RETENTION,
        legal_basis=BOOKING_RETENTION_BASIS,
        description="Kassenzeichen, amount, booking date and provider reference of a booked "
        "payment, without any link to the applicant after erasure.",
    ),
    RetentionPolicy(
        record_type="payments.unbooked_attempt",
        keep_for=timedelta(days=180),
        legal_basis="Art. 5(1)(e) GDPR; kept for questions about a failed payment",
        description="Failed or canceled payment attempts (no money moved) and their history, "
        "counted from their last change.",
    ),
    RetentionPolicy(
        record_type="payments.idempotency_key",
        keep_for=timedelta(days=30),
        legal_basis="Art. 5(1)(c), (e) GDPR; only needed while a client may retry",
        description="A client's idempotency key, the hash of its request and the result id.",
    ),
    RetentionPolicy(
        record_type="payments.notification",
        keep_for=timedelta(days=90),
        legal_basis="Art. 5(1)(e), 32 GDPR; replay detection of provider notifications",
        description="Event id and outcome of a verified provider notification (notifications "
        "older than the signature's 5-minute window are refused anyway).",
    ),
)

RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {
    "payments.booking": retention.delete_expired_bookings,
    "payments.unbooked_attempt": retention.delete_unbooked_attempts,
    "payments.idempotency_key": retention.delete_idempotency_keys,
    "payments.notification": retention.delete_notifications,
}
