"""What the vault declares about the personal data it processes (GDPR Art. 30)."""

from __future__ import annotations

from datetime import timedelta

from compliance import (
    ActionType,
    ProcessingActivity,
    RetentionExecutor,
    RetentionPolicy,
)
from vault.deletion import shred_unused_documents

_DOCS = "documents (end-to-end encrypted)"

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "vault.document.access_denied",
        _DOCS,
        "Someone was refused access to one of your documents.",
        "Jemandem wurde der Zugriff auf eines Ihrer Dokumente verweigert.",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.create",
        _DOCS,
        "You stored a document.",
        "Sie haben ein Dokument gespeichert.",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.read",
        _DOCS,
        "Your encrypted document was downloaded.",
        "Ihr verschlüsseltes Dokument wurde heruntergeladen.",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.metadata_read",
        _DOCS,
        "The encrypted name and type of your document were read, to be shown on a device "
        "(not its content).",
        "Der verschlüsselte Name und Typ Ihres Dokuments wurden abgerufen, um sie auf einem "
        "Gerät anzuzeigen (nicht sein Inhalt).",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.share",
        _DOCS,
        "You shared a document with an authority.",
        "Sie haben ein Dokument mit einer Behörde geteilt.",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.unshare",
        _DOCS,
        "You withdrew a document from an authority.",
        "Sie haben die Freigabe eines Dokuments für eine Behörde zurückgezogen.",
        resource_kind="document",
    ),
    ActionType(
        "vault.document.delete",
        _DOCS,
        "A document was deleted (crypto-shredded).",
        "Ein Dokument wurde gelöscht (kryptografisch vernichtet).",
        resource_kind="document",
    ),
    ActionType(
        "vault.wrapped_key.read",
        "encryption keys",
        "A wrapped key to one of your documents or your vault key was fetched.",
        "Ein verschlüsselter Schlüssel zu Ihren Dokumenten wurde abgerufen.",
    ),
    ActionType(
        "vault.key.create",
        "encryption keys",
        "You set up your document vault key.",
        "Sie haben Ihren Dokumententresor-Schlüssel eingerichtet.",
    ),
    ActionType(
        "vault.key.rewrap",
        "encryption keys",
        "Your vault passphrase or recovery code was changed.",
        "Ihre Tresor-Passphrase oder Ihr Wiederherstellungscode wurde geändert.",
    ),
)

ACTIVITIES: tuple[ProcessingActivity, ...] = (
    ProcessingActivity(
        id="vault-storage",
        name="Encrypted document storage",
        purpose="Keep applicants' supporting documents for their applications and share them "
        "with the responsible authority on the applicant's instruction.",
        data_categories=(_DOCS, "encryption keys (public or wrapped)"),
        data_subjects=("applicants",),
        recipients=("immigration authorities the applicant shares a document with",),
        legal_basis="Art. 6(1)(e) GDPR with § 3 OZG",
        retention="until the applicant deletes the document or the account",
        name_de="Verschlüsselte Ablage Ihrer Dokumente",
        purpose_de="Ihre Nachweise für Ihre Anträge aufbewahren und auf Ihre Anweisung mit "
        "der zuständigen Behörde teilen.",
        data_categories_de=(
            "Dokumente (Ende-zu-Ende verschlüsselt)",
            "Schlüssel (öffentlich oder verschlüsselt)",
        ),
        retention_de="bis Sie das Dokument oder Ihr Konto löschen",
    ),
)

RETENTION: tuple[RetentionPolicy, ...] = (
    RetentionPolicy(
        record_type="vault.document",
        keep_for=timedelta(days=3 * 365),
        legal_basis="Art. 5(1)(e) GDPR (storage limitation)",
        description="Documents not downloaded, fetched by an authority or shared for three "
        "years are crypto-shredded (wrapped keys and row now, the blob at the next vault gc).",
    ),
)

RETENTION_EXECUTORS: dict[str, RetentionExecutor] = {
    "vault.document": shred_unused_documents,
}
