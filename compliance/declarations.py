"""What the compliance domain itself processes: its actions, activities and retention."""

from __future__ import annotations

from datetime import timedelta

from compliance.register import (
    ActionType,
    ProcessingActivity,
    RetentionExecutor,
    RetentionPolicy,
)
from compliance.retention import shred_expired_entries

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        name="compliance.audit_log.read",
        data_category="audit log",
        description_en="A data-protection officer looked at the access log",
        description_de="Eine Datenschutzbeauftragte Person hat das Zugriffsprotokoll eingesehen",
    ),
    ActionType(
        name="compliance.audit_log.summarise",
        data_category="audit log",
        description_en="A data-protection officer counted accesses in the access log",
        description_de="Eine Datenschutzbeauftragte Person hat Zugriffe im Protokoll gezählt",
    ),
    ActionType(
        name="compliance.audit_log.export",
        data_category="audit log",
        description_en="A data-protection officer exported the access log",
        description_de="Eine Datenschutzbeauftragte Person hat das Zugriffsprotokoll exportiert",
    ),
    ActionType(
        name="compliance.retention.delete",
        data_category="audit log",
        description_en="Data was deleted because its retention period ended",
        description_de="Daten wurden gelöscht, weil ihre Aufbewahrungsfrist abgelaufen ist",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="compliance.audit-trail",
        name="Data-protection audit trail",
        purpose="Proving every access to personal data (accountability), letting data subjects "
        "see who accessed their data and why, and letting data-protection officers audit it",
        data_categories=("identifiers of data subjects and of officials", "access metadata"),
        data_subjects=("applicants", "officials of the authorities", "operator staff"),
        recipients=("data-protection officers", "the data subject (own entries)"),
        legal_basis="Art. 5(2), 6(1)(c), 30, 32 GDPR",
        retention="personal fields 2 years, then crypto-shredded; non-personal leaves kept",
        name_de="Datenschutz-Protokoll aller Zugriffe",
        purpose_de="Jeden Zugriff auf personenbezogene Daten nachweisen (Rechenschaftspflicht), "
        "Ihnen zeigen, wer wann und warum auf Ihre Daten zugegriffen hat, und "
        "Datenschutzbeauftragten die Prüfung ermöglichen",
        data_categories_de=(
            "Kennungen der betroffenen Personen und der Bediensteten",
            "Angaben zum Zugriff",
        ),
        retention_de="personenbezogene Felder 2 Jahre, danach kryptografisch gelöscht; "
        "Einträge ohne Personenbezug bleiben erhalten",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="compliance.access_entry",
        keep_for=timedelta(days=2 * 365),
        legal_basis="Art. 5(1)(e) GDPR; protocol data kept 2 years as in the Datenschutzcockpit",
        description="Personal fields and salt of audit entries; the non-personal leaf stays "
        "so the log keeps verifying",
    ),
)

RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {
    "compliance.access_entry": shred_expired_entries,
}
