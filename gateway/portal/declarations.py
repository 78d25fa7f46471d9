"""What the portal declares about the personal data it processes: its browser sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from compliance import ProcessingActivity, RetentionExecutor, RetentionPolicy

SESSION_BASIS = "Art. 6(1)(e) GDPR with § 3 OZG (access to the online services)"

SESSION_RETENTION = timedelta(hours=12)
"""The default absolute end of a session (``OZG_PORTAL_SESSION_MAX_SECONDS``); each row
carries its own end (``expires_at``), set at the login from the configured value."""

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="portal.session",
        name="Signed-in browser sessions of the web portal",
        purpose="Keep an applicant signed in to the portal between page loads, renew the "
        "identity provider's tokens and protect forms against cross-site requests.",
        data_categories=(
            "account subject and trust level",
            "identity provider tokens (sealed with a key derived from OZG_SECRET_KEY)",
            "session times",
        ),
        data_subjects=("applicants",),
        recipients=(),
        legal_basis=SESSION_BASIS,
        retention="Until logout, 30 minutes without a request (when next touched) or 12 hours "
        "after the login (OZG_PORTAL_SESSION_*); erased with the account.",
        name_de="Angemeldete Browser-Sitzungen im Portal",
        purpose_de="Sie zwischen den Seitenaufrufen angemeldet halten, die Tokens des "
        "Identitätsanbieters erneuern und Formulare vor websiteübergreifenden Anfragen "
        "schützen.",
        data_categories_de=(
            "Kennung des Kontos und Vertrauensniveau",
            "Tokens des Identitätsanbieters (verschlüsselt mit einem aus OZG_SECRET_KEY "
            "abgeleiteten Schlüssel)",
            "Zeitpunkte der Sitzung",
        ),
        retention_de="Bis zur Abmeldung, 30 Minuten ohne Anfrage oder 12 Stunden nach der "
        "Anmeldung (OZG_PORTAL_SESSION_*); mit dem Konto gelöscht.",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="portal.session",
        keep_for=SESSION_RETENTION,
        legal_basis="Art. 5(1)(e) GDPR; a session past its end is not needed any more",
        description="A browser session past its absolute end (its own expires_at: the login "
        "plus OZG_PORTAL_SESSION_MAX_SECONDS), with its sealed tokens.",
    ),
)


def _expire_sessions(session: Session, cutoff: datetime) -> list[str]:
    from gateway.portal.sessions import delete_expired_sessions

    # Each row carries its own end; the runner's cutoff is now - SESSION_RETENTION.
    return delete_expired_sessions(session, cutoff + SESSION_RETENTION)


RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {"portal.session": _expire_sessions}
