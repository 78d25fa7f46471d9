"""The data-protection audit trail.

Every access to personal data is recorded here, in the same transaction as the access, in a
tamper-evident, verifiable log that data-protection officers audit and applicants can see.

Other packages use only what this module exports.
"""

from compliance.recorder import AccessEvent, Actor, Outcome, record_access, record_accesses
from compliance.register import (
    ActionType,
    Declarations,
    ProcessingActivity,
    RetentionExecutor,
    RetentionPolicy,
)

__all__ = [
    "AccessEvent",
    "ActionType",
    "Actor",
    "Declarations",
    "Outcome",
    "ProcessingActivity",
    "RetentionExecutor",
    "RetentionPolicy",
    "record_access",
    "record_accesses",
]
