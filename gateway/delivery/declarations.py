"""What the delivery service declares about the personal data it processes.

It holds ciphertext only (JWE to the authority's key) plus who sent it (the applicant's
subject, or a flow client's id) and the plaintext ozg-commons manifest (flow, authority,
payment id, document types and sizes).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from compliance import ActionType, ProcessingActivity, RetentionExecutor, RetentionPolicy
from gateway.delivery.access import LEGAL_BASIS

# The delivery record erasure keeps (gateway/delivery/personal_data.py); defined here, where
# the register reads it, and used by the shredder.
RECORD_TYPE = "delivery.delivery_record"
RECORD_RETENTION = timedelta(days=3 * 365)  # § 195 BGB regular limitation period
RECORD_BASIS = (
    "Art. 17(3)(b), (e) GDPR: proof that and when the application reached the authority "
    "(§ 81(3), (4) AufenthG attach legal effects to the time of application), kept for the "
    "regular limitation period (§ 195 BGB)"
)

CATEGORY = "application (end-to-end encrypted)"

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "delivery.submission.create",
        CATEGORY,
        "A submission of your application to the immigration authority was started.",
        "Eine Übermittlung Ihres Antrags an die Ausländerbehörde wurde begonnen.",
    ),
    ActionType(
        "delivery.attachment.upload",
        CATEGORY,
        "An encrypted document of your application was uploaded for the authority.",
        "Ein verschlüsseltes Dokument Ihres Antrags wurde für die Behörde hochgeladen.",
    ),
    ActionType(
        "delivery.submission.submit",
        CATEGORY,
        "Your encrypted application was submitted to the immigration authority.",
        "Ihr verschlüsselter Antrag wurde bei der Ausländerbehörde eingereicht.",
    ),
    ActionType(
        "delivery.submission.read",
        CATEGORY,
        "Your encrypted application was retrieved (by you or by the authority).",
        "Ihr verschlüsselter Antrag wurde abgerufen (von Ihnen oder der Behörde).",
    ),
    ActionType(
        "delivery.attachment.read",
        CATEGORY,
        "An encrypted document of your application was retrieved.",
        "Ein verschlüsseltes Dokument Ihres Antrags wurde abgerufen.",
    ),
    ActionType(
        "delivery.events.read",
        CATEGORY,
        "The status log of your submission was read.",
        "Das Statusprotokoll Ihrer Übermittlung wurde gelesen.",
    ),
    ActionType(
        "delivery.submission.withdraw",
        CATEGORY,
        "The authority was told by an event that you withdrew your application.",
        "Die Behörde wurde durch ein Ereignis über die Rücknahme Ihres Antrags informiert.",
    ),
    ActionType(
        "delivery.submission.decide",
        CATEGORY,
        "Your submission was accepted or rejected.",
        "Ihre Übermittlung wurde angenommen oder zurückgewiesen.",
    ),
    ActionType(
        "delivery.submission.delete",
        CATEGORY,
        "An incomplete submission of your application was deleted.",
        "Eine unvollständige Übermittlung Ihres Antrags wurde gelöscht.",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="delivery.submission",
        name="Delivery of applications to immigration authorities (FIT-Connect)",
        purpose="Transport an application, encrypted end to end to the responsible "
        "immigration authority, until the authority has fetched and acknowledged it.",
        data_categories=(
            "sender (account subject or flow client id)",
            "encrypted application data, metadata and documents (not readable by the operator)",
            "submission manifest (flow, authority, payment id, document types and sizes)",
        ),
        data_subjects=("applicants",),
        recipients=("the immigration authority the applicant chose",),
        legal_basis=LEGAL_BASIS,
        retention="Incomplete submissions 1 day; ciphertext until acknowledged, unfetched "
        "submissions 14 days; the event log with the case. After the applicant's erasure: "
        "a delivery record without content or sender (ids, states, times, event log) for "
        "3 years after the submission.",
        name_de="Zustellung von Anträgen an Ausländerbehörden (FIT-Connect)",
        purpose_de="Einen Antrag Ende-zu-Ende verschlüsselt zur zuständigen Ausländerbehörde "
        "bringen, bis die Behörde ihn abgeholt und bestätigt hat.",
        data_categories_de=(
            "Absender (Kennung des Kontos oder des Verfahrens)",
            "verschlüsselte Antragsdaten, Metadaten und Dokumente (für den Betreiber nicht lesbar)",
            "Inhaltsverzeichnis der Einreichung (Verfahren, Behörde, Zahlungskennung, Art und "
            "Größe der Dokumente)",
        ),
        retention_de="Unvollständige Einreichungen 1 Tag; verschlüsselte Inhalte bis zur "
        "Bestätigung, nicht abgeholte Einreichungen 14 Tage; das Ereignisprotokoll mit dem "
        "Vorgang. Nach Ihrer Löschung: ein Zustellnachweis ohne Inhalt und Absender "
        "(Kennungen, Stand, Zeitpunkte, Ereignisprotokoll) für 3 Jahre nach der Einreichung.",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="delivery.incomplete_submission",
        keep_for=timedelta(days=1),
        legal_basis="Art. 5(1)(e) GDPR; FIT-Connect deletes incomplete submissions after 1 day",
        description="A submission never submitted, with its uploaded attachments; deleted by "
        "`ozg-commons delivery tick` (a delete-submission event remains).",
    ),
    RetentionPolicy(
        record_type="delivery.unfetched_submission",
        keep_for=timedelta(days=14),
        legal_basis="Art. 5(1)(e) GDPR; FIT-Connect rejects submissions unfetched for 14 days",
        description="A submission its authority never fetched; rejected and its ciphertext "
        "deleted by `ozg-commons delivery tick`.",
    ),
    RetentionPolicy(
        record_type=RECORD_TYPE,
        keep_for=RECORD_RETENTION,
        legal_basis=RECORD_BASIS,
        description="What erasure keeps of a submission that reached the authority: ids, "
        "destination, authority, service, states and their times, and the case's event log "
        "(signed tokens: ids, authentication tags, problems), without ciphertext, manifest, "
        "receipt, region or sender; counted from the submission.",
    ),
)


def _expire_records(session: Session, cutoff: datetime) -> list[str]:
    from gateway.delivery.personal_data import delete_expired_records

    return delete_expired_records(session, cutoff)


RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {RECORD_TYPE: _expire_records}
