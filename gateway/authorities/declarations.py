"""What the authorities component declares for the audit trail and the Art. 30 register.

The registry itself holds no personal data (authorities' public keys, regions and portal
data), so there is no processing activity and nothing to retain. The one audited action is a
refused attempt to reach another authority's data (:func:`service.require_authority`).
"""

from __future__ import annotations

from compliance import ActionType

ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "authorities.access.denied",
        "cases",
        "A caseworker of another authority was refused access to your data.",
        "Einer Sachbearbeiterin oder einem Sachbearbeiter einer anderen Behörde wurde der "
        "Zugriff auf Ihre Daten verweigert.",
    ),
)
