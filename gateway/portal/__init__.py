"""The web portal: server-rendered pages for applicants (KERN design system, German and
English, WCAG 2.1 AA), the OIDC login with a server-side session, and the offline API docs.

Everything the browser loads is served by the gateway itself (``/static/...``); see
``docs/portal.md``. The component is :class:`gateway.portal.component.PortalComponent`.
"""

from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
"""The message catalogues of the portal and of the command line (``commons.i18n``)."""
