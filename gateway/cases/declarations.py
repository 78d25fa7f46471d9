"""What the cases component declares about the personal data it processes: audited actions,
its processing activity, and the retention of abandoned drafts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from compliance import ActionType, ProcessingActivity, RetentionExecutor, RetentionPolicy

CASE_BASIS = "Art. 6(1)(e) GDPR with § 81 AufenthG and § 3 OZG (application for a residence title)"
AUTHORITY_BASIS = "Art. 6(1)(e) GDPR with §§ 71, 86 AufenthG (processing by the authority)"
FEE_BASIS = "Art. 6(1)(e) GDPR with § 69 AufenthG and §§ 44-53 AufenthV (fees)"

DRAFT_RETENTION = timedelta(days=30)
"""The default period of ``cases.draft``; a flow's ``draft_retention_days`` (or
``OZG_CASES_DRAFT_RETENTION_DAYS``) sets each draft's own expiry when it is written."""

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "cases.case.access_denied",
        "application",
        "Someone was refused access to your application.",
        "Jemandem wurde der Zugriff auf Ihren Antrag verweigert.",
    ),
    ActionType(
        "cases.case.create",
        "application",
        "You started an application.",
        "Sie haben einen Antrag begonnen.",
    ),
    ActionType(
        "cases.case.read",
        "application",
        "Your application and its status were shown.",
        "Ihr Antrag und sein Status wurden angezeigt.",
    ),
    ActionType(
        "cases.case.update",
        "application",
        "Your application was updated (authority chosen, payment linked).",
        "Ihr Antrag wurde ergänzt (Behörde gewählt, Zahlung verknüpft).",
    ),
    ActionType(
        "cases.draft.write",
        "application draft (encrypted)",
        "Your encrypted draft was saved.",
        "Ihr verschlüsselter Entwurf wurde gespeichert.",
    ),
    ActionType(
        "cases.draft.read",
        "application draft (encrypted)",
        "Your encrypted draft was fetched to resume it.",
        "Ihr verschlüsselter Entwurf wurde zum Weiterbearbeiten abgerufen.",
    ),
    ActionType(
        "cases.case.delete",
        "application",
        "A draft application of yours was deleted.",
        "Ein Antragsentwurf von Ihnen wurde gelöscht.",
    ),
    ActionType(
        "cases.flow_client.allow",
        "application",
        "You allowed an external application service to act within your application.",
        "Sie haben einem externen Antragsdienst erlaubt, in Ihrem Antrag zu handeln.",
    ),
    ActionType(
        "cases.flow_client.revoke",
        "application",
        "You took back an external application service's permission for your application.",
        "Sie haben einem externen Antragsdienst die Erlaubnis für Ihren Antrag entzogen.",
    ),
    ActionType(
        "cases.fee_facts.write",
        "fee facts",
        "The facts your fee depends on were sent for the fee quote.",
        "Die für Ihre Gebühr maßgeblichen Angaben wurden für die Gebührenberechnung übermittelt.",
    ),
    ActionType(
        "cases.submission.check",
        "application",
        "Your submission was checked for completeness before delivery.",
        "Ihre Einreichung wurde vor der Zustellung auf Vollständigkeit geprüft.",
    ),
    ActionType(
        "cases.status.change",
        "application",
        "The status of your application changed.",
        "Der Status Ihres Antrags hat sich geändert.",
    ),
    ActionType(
        "cases.documents.provide",
        "documents",
        "You added documents to your application.",
        "Sie haben Ihrem Antrag Unterlagen hinzugefügt.",
    ),
    ActionType(
        "cases.authority.read",
        "application",
        "A caseworker of the authority looked at your application.",
        "Eine Sachbearbeiterin oder ein Sachbearbeiter der Behörde hat Ihren Antrag angesehen.",
    ),
    ActionType(
        "cases.applicant_key.read",
        "vault key",
        "The authority's client fetched your public vault key to seal a message to you.",
        "Die Software der Behörde hat Ihren öffentlichen Tresorschlüssel abgerufen, um Ihnen "
        "eine verschlüsselte Nachricht zu senden.",
    ),
    ActionType(
        "cases.waiver.decide",
        "fee facts",
        "The authority decided on your request for a fee waiver.",
        "Die Behörde hat über Ihren Antrag auf Gebührenbefreiung entschieden.",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="cases.lifecycle",
        name="Residence-permit applications: cases, drafts, status and authority steps",
        purpose="Let the applicant prepare (sealed drafts), submit and follow an application, "
        "and let the responsible authority move it on, request documents and decide.",
        data_categories=(
            "case references (flow, authority, states and their times)",
            "fee facts the flow declares (age, nationality/association status, benefit "
            "receipt, protection status)",
            "drafts and authority messages sealed to the applicant's key (unreadable to the "
            "operator)",
        ),
        data_subjects=("applicants",),
        recipients=("the responsible immigration authority",),
        legal_basis=CASE_BASIS,
        retention="Drafts: the flow's draft retention after their last change (default 30 "
        "days); cases: until the applicant's erasure. The authority's copy is the authority's.",
        name_de="Anträge auf Aufenthaltstitel: Vorgänge, Entwürfe, Stand und Schritte der Behörde",
        purpose_de="Ihnen ermöglichen, einen Antrag vorzubereiten (verschlüsselte Entwürfe), zu "
        "senden und zu verfolgen, und der zuständigen Behörde, ihn zu bearbeiten, Dokumente "
        "nachzufordern und zu entscheiden.",
        data_categories_de=(
            "Angaben zum Vorgang (Verfahren, Behörde, Stand und Zeitpunkte)",
            "Angaben für die Gebühr, die das Verfahren meldet (Alter, Staatsangehörigkeit/"
            "Assoziationsrecht, Bezug von Leistungen, Schutzstatus)",
            "Entwürfe und Nachrichten der Behörde, verschlüsselt mit Ihrem Schlüssel (für den "
            "Betreiber nicht lesbar)",
        ),
        retention_de="Entwürfe: die Frist des Verfahrens nach der letzten Änderung (üblich 30 "
        "Tage); Vorgänge: bis zu Ihrer Löschung. Die Kopie der Behörde gehört der Behörde.",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="cases.draft",
        keep_for=DRAFT_RETENTION,
        legal_basis="Art. 5(1)(e) GDPR; an abandoned application is not needed any more",
        description="A case still in draft (with its sealed draft), counted from its last "
        "change; each flow may set its own period (draft_retention_days), else "
        "OZG_CASES_DRAFT_RETENTION_DAYS.",
    ),
)


def _expire_drafts(session: Session, cutoff: datetime) -> list[str]:
    from gateway.cases.service import delete_expired_drafts

    # Each draft carries its own expiry (the flow's period); the runner's cutoff is
    # now - DRAFT_RETENTION, so now is cutoff + DRAFT_RETENTION.
    return delete_expired_drafts(session, cutoff + DRAFT_RETENTION)


RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {"cases.draft": _expire_drafts}
