"""Keyset paging: the opaque cursor of every paged listing (the access log, the DPO's
query, the vault's metadata read).

A cursor names the last row of a page by its time and id, so the next page starts after it
even if that row was deleted meanwhile. It is base64url of the JSON ``[time, id]`` and
means nothing to a client but "the next page"; anything this service did not make is
refused with one :class:`~commons.errors.InvalidInput`.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from commons.errors import InvalidInput


def encode_cursor(at: datetime, row_id: str) -> str:
    """The cursor after the row made at ``at`` with id ``row_id``."""
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), row_id]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(at, row_id)`` of a cursor from :func:`encode_cursor`; :class:`InvalidInput`
    for anything else."""
    try:
        at_s, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(at_s)
        if at.tzinfo is None or not isinstance(row_id, str):
            raise ValueError
    except (ValueError, TypeError, RecursionError, binascii.Error):  # RecursionError: deep JSON
        raise InvalidInput("the cursor is not one this service returned") from None
    return at, row_id
