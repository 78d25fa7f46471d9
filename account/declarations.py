"""What the account domain declares about the personal data it processes."""

from __future__ import annotations

from account.erasure import RECEIPT_RETENTION, delete_expired_receipts
from compliance import ActionType, ProcessingActivity, RetentionExecutor, RetentionPolicy

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "account.record.access_denied",
        "account",
        "Someone was refused access to one of your consents or messages.",
        "Jemandem wurde der Zugriff auf eine Ihrer Einwilligungen oder Nachrichten verweigert.",
    ),
    ActionType(
        "account.account.create",
        "account",
        "Your account was created when you first signed in.",
        "Ihr Konto wurde bei Ihrer ersten Anmeldung angelegt.",
    ),
    ActionType(
        "account.profile.read",
        "profile",
        "Your profile was shown to you.",
        "Ihr Profil wurde Ihnen angezeigt.",
    ),
    ActionType(
        "account.profile.write",
        "profile",
        "You corrected your profile.",
        "Sie haben Ihr Profil berichtigt.",
    ),
    ActionType(
        "account.consent.grant",
        "consent",
        "You gave a consent.",
        "Sie haben eine Einwilligung erteilt.",
    ),
    ActionType(
        "account.consent.withdraw",
        "consent",
        "You withdrew a consent.",
        "Sie haben eine Einwilligung widerrufen.",
    ),
    ActionType(
        "account.message.send",
        "message",
        "An authority or service sent a message to your mailbox.",
        "Eine Behörde oder ein Dienst hat Ihnen eine Nachricht gesendet.",
    ),
    ActionType(
        "account.message.list",
        "message",
        "Your mailbox was listed for you.",
        "Ihr Postfach wurde Ihnen angezeigt.",
    ),
    ActionType(
        "account.login.list",
        "login history",
        "Your login history was shown to you.",
        "Ihr Anmeldeverlauf wurde Ihnen angezeigt.",
    ),
    ActionType(
        "account.consent.list",
        "consent",
        "Your consents were shown to you.",
        "Ihre Einwilligungen wurden Ihnen angezeigt.",
    ),
    ActionType(
        "account.message.read",
        "message",
        "A message in your mailbox was opened.",
        "Eine Nachricht in Ihrem Postfach wurde geöffnet.",
    ),
    ActionType(
        "account.message.archive",
        "message",
        "A message in your mailbox was archived.",
        "Eine Nachricht in Ihrem Postfach wurde archiviert.",
    ),
    ActionType(
        "account.data.export",
        "all",
        "You exported all data held about you.",
        "Sie haben alle über Sie gespeicherten Daten exportiert.",
    ),
    ActionType(
        "account.data.erase",
        "all",
        "Your account and data were erased.",
        "Ihr Konto und Ihre Daten wurden gelöscht.",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="account",
        name="Applicant account (Nutzerkonto) and mailbox (Postfach)",
        purpose="Tie the applicant to their applications, documents and payments; deliver "
        "messages from the immigration authority; keep consent receipts.",
        data_categories=("identifier", "profile", "consent", "message", "login history"),
        data_subjects=("applicants",),
        recipients=("immigration authority (messages it sent)",),
        legal_basis="Art. 6(1)(e) GDPR with § 3, § 9 OZG; consents Art. 6(1)(a) GDPR",
        retention="until erasure on request, or erasure after dormancy "
        "(OZG_ACCOUNT_DORMANT_AFTER_DAYS + OZG_ACCOUNT_DORMANT_GRACE_DAYS)",
        name_de="Nutzerkonto und Postfach",
        purpose_de="Ihr Konto mit Ihren Anträgen, Dokumenten und Zahlungen verbinden; "
        "Nachrichten der Ausländerbehörde zustellen; Ihre Einwilligungen belegen.",
        data_categories_de=(
            "Kennung",
            "Profil",
            "Einwilligungen",
            "Nachrichten",
            "Anmeldeverlauf",
        ),
        retention_de="bis zur Löschung auf Ihren Wunsch oder nach langer Nichtnutzung "
        "(OZG_ACCOUNT_DORMANT_AFTER_DAYS + OZG_ACCOUNT_DORMANT_GRACE_DAYS)",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="account_erasure",
        keep_for=RECEIPT_RETENTION,
        legal_basis="Art. 5(2), Art. 17 GDPR; § 195 BGB",
        description="Signed erasure receipt (keyed subject digest, counts; no personal data).",
    ),
)

RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {
    "account_erasure": delete_expired_receipts,
}
