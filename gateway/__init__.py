"""The HTTP API and command line that compose the ozg-commons services.

Nothing imports ``gateway``; it imports the domains and wires them together.
"""

from gateway.app import create_app

__all__ = ["create_app"]
