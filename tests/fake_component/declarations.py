"""What the fake component declares about the personal data it processes."""

from __future__ import annotations

from datetime import timedelta

from compliance import ActionType, ProcessingActivity, RetentionPolicy

ACTIONS = (
    ActionType("fakecomp.note.read", "notes", "A note was read.", "Eine Notiz wurde gelesen."),
)
ACTIVITIES = (
    ProcessingActivity(
        id="fakecomp.notes",
        name="Notes of the fake component",
        purpose="Prove that components plug in through the contract",
        data_categories=("notes",),
        data_subjects=("applicants",),
        recipients=("nobody",),
        legal_basis="Art. 6(1)(e) GDPR",
        retention="30 days",
    ),
)
RETENTION = (
    RetentionPolicy("fakecomp.note", timedelta(days=30), "Art. 5(1)(e) GDPR", "Fake notes"),
)
