"""The HTTP API and command line that compose the ozg-commons services.

Nothing imports ``gateway``; it imports the domains and wires them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commons.faces import lazy_face

if TYPE_CHECKING:
    from gateway.app import create_app

__all__ = [
    "create_app",
]
__getattr__ = lazy_face(
    __name__,
    {
        "create_app": "gateway.app",
    },
)
