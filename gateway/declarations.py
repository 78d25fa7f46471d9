"""The domains' declarations (actions, processing activities, retention), composed.

Each domain that processes personal data adds its ``processing`` module here.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import account.processing
import compliance.processing
import payments.processing
import vault.processing
from compliance.declarations import Declarations

DECLARING_MODULES: tuple[ModuleType, ...] = (
    compliance.processing,
    account.processing,
    vault.processing,
    payments.processing,
)


@cache
def all_declarations() -> Declarations:
    return Declarations.from_modules(DECLARING_MODULES)
