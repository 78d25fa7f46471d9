"""The declaration types, and the GDPR Art. 30 register they compose into.

What each domain and flow declares about the personal data it processes. Declarations are
data, not code paths: each domain exports tuples of these (in its ``declarations.py``) and
the gateway composes them into the action registry, the GDPR Art. 30 register of processing
activities and the retention schedule; :func:`register_json` and :func:`register_markdown`
render that register (``ozg-commons compliance register``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from compliance.runtime import Controller


@dataclass(frozen=True, slots=True)
class ActionType:
    """A kind of access that the audit trail records, e.g. ``vault.document.read``.

    The texts are what the applicant reads in their access log, in plain language.
    ``resource_kind`` says what the entry's resource names, where the data subject may see it:
    ``"document"`` (a vault document id, given in the access log as ``document_id`` so the
    applicant's device can show the document's name, which only it can decrypt).
    """

    name: str
    data_category: str
    description_en: str
    description_de: str
    resource_kind: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessingActivity:
    """One entry of the record of processing activities (GDPR Art. 30(1)).

    The ``*_de`` fields say the name, purpose, data categories and retention in German, for
    the readable part of the data subject's export (:func:`about_the_data_subject`); the
    register itself is in English."""

    id: str
    name: str
    purpose: str
    data_categories: tuple[str, ...]
    data_subjects: tuple[str, ...]
    recipients: tuple[str, ...]
    legal_basis: str
    retention: str
    name_de: str = ""
    purpose_de: str = ""
    data_categories_de: tuple[str, ...] = ()
    retention_de: str = ""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long one record type is kept, and on what basis; ``ozg-commons retention run``
    deletes or crypto-shreds what is due."""

    record_type: str
    keep_for: timedelta
    legal_basis: str
    description: str


RetentionExecutor = Callable[["Session", datetime], list[str]]
"""Deletes or crypto-shreds the records of one type created before the cutoff; returns their
ids (never personal data)."""


@dataclass(frozen=True, slots=True)
class Declarations:
    """Every domain's declarations, composed (by the gateway) from their ``declarations`` modules.

    A module provides ``ACTIONS``, ``ACTIVITIES``, ``RETENTION`` and optionally
    ``RETENTION_EXECUTORS`` (record type -> :data:`RetentionExecutor`).
    """

    actions: tuple[ActionType, ...]
    activities: tuple[ProcessingActivity, ...]
    retention: tuple[RetentionPolicy, ...]
    executors: Mapping[str, RetentionExecutor]

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType]) -> Declarations:
        actions: list[ActionType] = []
        activities: list[ProcessingActivity] = []
        retention: list[RetentionPolicy] = []
        executors: dict[str, RetentionExecutor] = {}
        for module in modules:
            actions += getattr(module, "ACTIONS", ())
            activities += getattr(module, "ACTIVITIES", ())
            retention += getattr(module, "RETENTION", ())
            executors.update(getattr(module, "RETENTION_EXECUTORS", {}))
        for what, names in (
            ("action", [a.name for a in actions]),
            ("processing activity", [a.id for a in activities]),
            ("retention policy", [r.record_type for r in retention]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} declared twice: {', '.join(dupes)}")
        return cls(tuple(actions), tuple(activities), tuple(retention), executors)


# --------------------------------------------------------------------------- Art. 30 register
def register_json(
    declarations: Declarations, controller: Controller | None = None
) -> dict[str, Any]:
    """The register as data; ``controller`` names who is responsible (Art. 30(1)(a))."""
    return {
        "format": "ozg-commons-art30-register/v1",
        "controller": None if controller is None else asdict(controller),
        "processing_activities": [
            {
                **{k: v for k, v in asdict(a).items() if not k.endswith("_de")},
                "data_categories": list(a.data_categories),
                "data_subjects": list(a.data_subjects),
                "recipients": list(a.recipients),
            }
            for a in declarations.activities
        ],
        "retention_policies": [
            {
                "record_type": r.record_type,
                "keep_for_days": r.keep_for.days,
                "legal_basis": r.legal_basis,
                "description": r.description,
            }
            for r in declarations.retention
        ],
        "actions": [asdict(a) for a in declarations.actions],
    }


ABOUT_TITLE = {
    "en": "What we hold about you, why, and for how long",
    "de": "Was wir über Sie speichern, warum und wie lange",
}


def about_the_data_subject(activities: Iterable[ProcessingActivity]) -> dict[str, Any]:
    """The readable part of an applicant's export (GDPR Art. 15(1)(a)-(d)): for each
    processing activity about applicants, what is held, why, on which legal basis, who
    receives it and for how long, in English and German (English where a German text is
    missing)."""
    about = [a for a in activities if any("applicant" in s for s in a.data_subjects)]
    return {
        lang: {
            "title": ABOUT_TITLE[lang],
            "processing": [
                {
                    "id": a.id,
                    "name": (a.name_de if lang == "de" else "") or a.name,
                    "what": list(
                        (a.data_categories_de if lang == "de" else ()) or a.data_categories
                    ),
                    "why": (a.purpose_de if lang == "de" else "") or a.purpose,
                    "legal_basis": a.legal_basis,
                    "recipients": list(a.recipients),
                    "how_long": (a.retention_de if lang == "de" else "") or a.retention,
                }
                for a in about
            ],
        }
        for lang in ("en", "de")
    }


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def register_markdown(declarations: Declarations, controller: Controller | None = None) -> str:
    def lines() -> Iterator[str]:
        yield "# Record of processing activities (GDPR Art. 30(1))"
        yield ""
        if controller is not None:
            yield f"- **Controller:** {_md(controller.name)}, {_md(controller.contact)}"
            yield f"- **Data-protection officer:** {_md(controller.dpo_contact)}"
            yield ""
        for a in declarations.activities:
            yield f"## {_md(a.name)} (`{a.id}`)"
            yield ""
            yield f"- **Purpose:** {_md(a.purpose)}"
            yield f"- **Categories of data:** {_md(', '.join(a.data_categories))}"
            yield f"- **Data subjects:** {_md(', '.join(a.data_subjects))}"
            yield f"- **Recipients:** {_md(', '.join(a.recipients))}"
            yield f"- **Legal basis:** {_md(a.legal_basis)}"
            yield f"- **Retention:** {_md(a.retention)}"
            yield ""
        yield "## Retention schedule"
        yield ""
        yield "| record type | kept for (days) | legal basis | what |"
        yield "|---|---|---|---|"
        for r in declarations.retention:
            yield (
                f"| `{r.record_type}` | {r.keep_for.days} | {_md(r.legal_basis)} "
                f"| {_md(r.description)} |"
            )
        yield ""

    return "\n".join(lines())
