"""SQLAlchemy tables of the account domain (prefix ``account_``), on :class:`commons.db.Base`."""

from __future__ import annotations
