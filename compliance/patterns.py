"""Unusual patterns in the audit trail, for the DPO's summary (no HTTP).

Two rules, both over the entries a DPO's query selects (their scope and filter):

- **Many document opens.** An actor whose count of document opens (:data:`DOCUMENT_OPENS`)
  exceeds ``factor`` times the median of their peers' counts. Peers are the other actors of
  the same role who have at least one entry in the selection; the median is taken as at
  least 1, so an actor among peers who opened nothing is flagged above ``factor`` opens. With
  fewer than :data:`MIN_PEERS` peers there is no "usual" to compare with, and nothing is
  flagged.
- **Outside office hours.** Entries of staff (:data:`STAFF_ROLES`: people acting for an
  authority or the operator, not applicants, flows or system jobs) recorded outside the
  office hours, by default Monday to Friday, 07:00 to 19:00 in Europe/Berlin.

Kept on the server so that a window of any size is summarised with one grouped query and
one pass over two narrow columns, rather than by shipping every entry to the browser.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from commons.errors import InvalidInput
from compliance.leaf import format_time
from compliance.models import AccessEntry, AccessPersonal
from compliance.views import OPERATOR, EntryFilter, filtered

DOCUMENT_OPENS = ("vault.document.read",)
STAFF_ROLES = ("caseworker", "admin")
MIN_PEERS = 2
DEFAULT_FACTOR = 3.0
DEFAULT_OFFICE_HOURS = "Mon-Fri 07-19"
DEFAULT_TIMEZONE = "Europe/Berlin"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HOURS = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)-(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d\d)-(\d\d)$")


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Weekdays ``first``..``last`` (0 = Monday, may wrap), hours ``[start, end)`` in ``zone``."""

    first: int
    last: int
    start: int
    end: int
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, text: str, zone: str) -> OfficeHours:
        """``"Mon-Fri 07-19"`` in an IANA zone; :class:`InvalidInput` otherwise."""
        found = _HOURS.match(text)
        if found is None:
            raise InvalidInput('office hours look like "Mon-Fri 07-19"')
        start, end = int(found[3]), int(found[4])
        if not 0 <= start < end <= 24:
            raise InvalidInput("office hours need 0 <= start < end <= 24")
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("not a time zone, e.g. Europe/Berlin") from None
        return cls(DAYS.index(found[1]), DAYS.index(found[2]), start, end, tz, text)

    def contains(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        day = local.weekday()
        in_days = (
            self.first <= day <= self.last
            if self.first <= self.last
            else day >= self.first or day <= self.last
        )
        return in_days and self.start <= local.hour < self.end


@dataclass(frozen=True, slots=True)
class Rules:
    factor: float
    hours: OfficeHours

    def as_json(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "min_peers": MIN_PEERS,
            "document_actions": list(DOCUMENT_OPENS),
            "office_hours": self.hours.text,
            "timezone": self.hours.zone.key,
            "staff_roles": list(STAFF_ROLES),
        }


def _actor() -> Any:
    return func.coalesce(AccessPersonal.actor_subject, AccessEntry.actor_client_id)


def _scoped(stmt: Any, scope: str | None, f: EntryFilter) -> Any:
    stmt = stmt.select_from(AccessEntry).outerjoin(
        AccessPersonal, AccessPersonal.entry_id == AccessEntry.id
    )
    if scope is not None and scope != OPERATOR:
        stmt = stmt.where(AccessEntry.actor_authority == scope)
    return filtered(stmt, f)


def many_document_opens(
    session: Session, scope: str | None, f: EntryFilter, factor: float
) -> list[dict[str, Any]]:
    opens = func.sum(case((AccessEntry.action.in_(DOCUMENT_OPENS), 1), else_=0)).label("opens")
    stmt = _scoped(
        select(_actor(), AccessEntry.actor_role, AccessEntry.actor_authority, opens), scope, f
    ).group_by(_actor(), AccessEntry.actor_role, AccessEntry.actor_authority)
    by_role: dict[str, list[tuple[str, str | None, int]]] = defaultdict(list)
    for actor, role, authority, n in session.execute(stmt):
        if actor is not None:
            by_role[role].append((actor, authority, int(n or 0)))
    flagged = []
    for role, actors in by_role.items():
        for i, (actor, authority, n) in enumerate(actors):
            peers = [m for j, (_a, _b, m) in enumerate(actors) if j != i]
            if len(peers) < MIN_PEERS:
                continue
            median = statistics.median(peers)
            if n > factor * max(median, 1):
                flagged.append(
                    {
                        "actor": actor,
                        "role": role,
                        "authority": authority,
                        "count": n,
                        "peer_median": median,
                        "peers": len(peers),
                    }
                )
    flagged.sort(key=_largest_first)
    return flagged


def outside_office_hours(
    session: Session, scope: str | None, f: EntryFilter, hours: OfficeHours
) -> list[dict[str, Any]]:
    stmt = _scoped(
        select(_actor(), AccessEntry.actor_role, AccessEntry.actor_authority, AccessEntry.at),
        scope,
        f,
    ).where(AccessEntry.actor_role.in_(STAFF_ROLES))
    found: dict[tuple[str, str, str | None], list[datetime]] = defaultdict(list)
    for actor, role, authority, at in session.execute(stmt.execution_options(yield_per=2000)):
        if actor is not None and not hours.contains(at):
            found[(actor, role, authority)].append(at)
    out = [
        {
            "actor": actor,
            "role": role,
            "authority": authority,
            "count": len(times),
            "first": format_time(min(times)),
            "last": format_time(max(times)),
        }
        for (actor, role, authority), times in found.items()
    ]
    out.sort(key=_largest_first)
    return out


def _largest_first(item: dict[str, Any]) -> tuple[int, str]:
    return -int(item["count"]), str(item["actor"])


def unusual(session: Session, scope: str | None, f: EntryFilter, rules: Rules) -> dict[str, Any]:
    return {
        "rules": rules.as_json(),
        "many_document_opens": many_document_opens(session, scope, f, rules.factor),
        "outside_office_hours": outside_office_hours(session, scope, f, rules.hours),
    }
