"""SQLAlchemy tables of the compliance domain (prefix ``compliance_``)."""

from __future__ import annotations
