"""SQLAlchemy tables of the payments domain (prefix ``payments_``), on :class:`commons.db.Base`."""

from __future__ import annotations
