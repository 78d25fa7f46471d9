"""The case state machine: one table of legal transitions, one function that enforces it.

``draft -> submitted -> received -> processing <-> action_required -> decided`` (approved or
rejected), or ``withdrawn`` from any state after ``draft`` and before ``decided``. FIT-Connect's
own submission states end at ``accepted`` (our ``received``) or ``rejected``; ``processing``,
``action_required`` and ``decided`` are ozg-commons' own, on top (docs/cases.md).
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RECEIVED = "received"
    PROCESSING = "processing"
    ACTION_REQUIRED = "action_required"
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


S = CaseState

TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    # the delivery service's reject-submission (the authority's client, or the 14-day timer)
    # ends a submitted case as decided/rejected with the reason ``delivery-rejected``
    S.SUBMITTED: frozenset({S.RECEIVED, S.DECIDED, S.WITHDRAWN}),
    S.RECEIVED: frozenset({S.PROCESSING, S.ACTION_REQUIRED, S.DECIDED, S.WITHDRAWN}),
    S.PROCESSING: frozenset({S.ACTION_REQUIRED, S.DECIDED, S.WITHDRAWN}),
    S.ACTION_REQUIRED: frozenset({S.PROCESSING, S.DECIDED, S.WITHDRAWN}),
    S.DECIDED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

FINAL = frozenset({S.DECIDED, S.WITHDRAWN})
AT_AUTHORITY = frozenset({S.RECEIVED, S.PROCESSING, S.ACTION_REQUIRED})
"""The authority holds the case and may move it on (request documents, decide, waive)."""
VISIBLE_TO_AUTHORITY = frozenset(CaseState) - {S.DRAFT}
"""A draft is the applicant's alone; the authority sees a case once it was submitted."""

LABELS: dict[CaseState, str] = {
    S.DRAFT: "INITIATED",
    S.SUBMITTED: "SUBMITTED",
    S.RECEIVED: "RECEIVED",
    S.PROCESSING: "PROCESSING",
    S.ACTION_REQUIRED: "ACTION_REQUIRED",
    S.DECIDED: "COMPLETED",
    S.WITHDRAWN: "COMPLETED",
}
"""What the applicant reads (the status monitor's vocabulary)."""

LABEL_TEXT: dict[str, tuple[str, str]] = {
    "INITIATED": ("Begonnen", "Initiated"),
    "SUBMITTED": ("Eingereicht", "Submitted"),
    "RECEIVED": ("Eingegangen", "Received"),
    "PROCESSING": ("In Bearbeitung", "Processing"),
    "ACTION_REQUIRED": ("Handlung erforderlich", "Action required"),
    "COMPLETED": ("Abgeschlossen", "Completed"),
}
"""Each label in German and English, for the neutral mailbox notices."""

REASONS = frozenset(
    {
        "created",
        "submitted",
        "delivery-accepted",
        "delivery-rejected",
        "processing-started",
        "documents-requested",
        "documents-provided",
        "approved",
        "rejected",
        "withdrawn",
    }
)
"""The reason codes of timeline rows: a closed vocabulary, so no free text (and no personal
data) ever lands in the timeline."""

ACTOR_KINDS = frozenset({"applicant", "flow", "caseworker", "delivery", "system"})


def can_transition(current: CaseState, target: CaseState) -> bool:
    return target in TRANSITIONS[current]


def label(state: CaseState | str) -> str:
    return LABELS[CaseState(state)]
