"""The data-protection audit trail.

Every access to personal data is recorded here, in the same transaction as the access, in a
tamper-evident, verifiable log that data-protection officers audit and applicants can see.

Other packages use only what this module exports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from compliance.api import AuditCaller, CallerSource, caller
    from compliance.recorder import (
        AccessEvent,
        Actor,
        Outcome,
        record_access,
        record_accesses,
        record_denied,
    )
    from compliance.register import (
        ActionType,
        Declarations,
        ProcessingActivity,
        RetentionExecutor,
        RetentionPolicy,
        about_the_data_subject,
        register_json,
    )
    from compliance.verify import HttpLog, verify_server
    from compliance.views import SYSTEM, YOU

__all__ = [
    "SYSTEM",
    "YOU",
    "AccessEvent",
    "ActionType",
    "Actor",
    "AuditCaller",
    "CallerSource",
    "Declarations",
    "HttpLog",
    "Outcome",
    "ProcessingActivity",
    "RetentionExecutor",
    "RetentionPolicy",
    "about_the_data_subject",
    "caller",
    "record_access",
    "record_accesses",
    "record_denied",
    "register_json",
    "verify_server",
]
__getattr__ = lazy_face(
    __name__,
    {
        "AccessEvent": "compliance.recorder",
        "ActionType": "compliance.register",
        "Actor": "compliance.recorder",
        "AuditCaller": "compliance.api",
        "CallerSource": "compliance.api",
        "Declarations": "compliance.register",
        "HttpLog": "compliance.verify",
        "Outcome": "compliance.recorder",
        "ProcessingActivity": "compliance.register",
        "RetentionExecutor": "compliance.register",
        "RetentionPolicy": "compliance.register",
        "about_the_data_subject": "compliance.register",
        "caller": "compliance.api",
        "record_access": "compliance.recorder",
        "record_accesses": "compliance.recorder",
        "record_denied": "compliance.recorder",
        "register_json": "compliance.register",
        "verify_server": "compliance.verify",
        "SYSTEM": "compliance.views",
        "YOU": "compliance.views",
    },
)
