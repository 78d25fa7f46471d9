"""SQLAlchemy tables of the vault domain (prefix ``vault_``), on :class:`commons.db.Base`."""

from __future__ import annotations
