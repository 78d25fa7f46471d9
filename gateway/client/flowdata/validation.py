"""Validation of a form against its flow's schema, with messages in German or English.

Messages come from the ``x-i18n.errors`` of the field's schema (keyed by the failing
JSON Schema keyword, or ``"*"`` for any), else from :data:`DEFAULT_MESSAGES`. A missing
required field is reported at the field's own pointer, with the field's ``required``
message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from commons.flows import LANGUAGES, schema_at
from gateway.client.flowdata._flow import FlowLike, public

#: The messages for a keyword when the field declares none (the browser uses the same).
DEFAULT_MESSAGES: dict[str, dict[str, str]] = {
    "required": {"de": "Bitte füllen Sie dieses Feld aus.", "en": "Please fill in this field."},
    "type": {"de": "Diese Angabe hat die falsche Form.", "en": "This answer has the wrong form."},
    "enum": {
        "de": "Bitte wählen Sie eine der Möglichkeiten.",
        "en": "Please choose one of the options.",
    },
    "const": {"de": "Bitte bestätigen Sie dies.", "en": "Please confirm this."},
    "format": {
        "de": "Bitte geben Sie einen gültigen Wert ein.",
        "en": "Please enter a valid value.",
    },
    "pattern": {
        "de": "Diese Angabe hat nicht die erwartete Form.",
        "en": "This answer is not in the expected form.",
    },
    "minLength": {"de": "Diese Angabe ist zu kurz.", "en": "This answer is too short."},
    "maxLength": {"de": "Diese Angabe ist zu lang.", "en": "This answer is too long."},
    "minimum": {"de": "Dieser Wert ist zu klein.", "en": "This value is too small."},
    "maximum": {"de": "Dieser Wert ist zu groß.", "en": "This value is too large."},
    "minItems": {"de": "Bitte geben Sie mehr Einträge an.", "en": "Please add more entries."},
    "maxItems": {"de": "Das sind zu viele Einträge.", "en": "These are too many entries."},
    "additionalProperties": {
        "de": "Dieses Feld gehört nicht zum Formular.",
        "en": "This field is not part of the form.",
    },
    "*": {"de": "Diese Angabe ist ungültig.", "en": "This answer is not valid."},
}


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field: ``pointer`` is the RFC 6901 pointer into the form data."""

    pointer: str
    message: str


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _message(field_schema: Mapping[str, Any] | None, keyword: str, lang: str) -> str:
    errors = ((field_schema or {}).get("x-i18n") or {}).get("errors") or {}
    chosen = errors.get(keyword) or errors.get("*") or DEFAULT_MESSAGES.get(keyword)
    chosen = chosen or DEFAULT_MESSAGES["*"]
    return str(chosen[lang])


def _errors(error: ValidationError, schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (pointer, keyword) pairs of one jsonschema error, leaves first."""
    if error.context:  # anyOf/oneOf: report the branches' own problems
        return [pair for sub in error.context for pair in _errors(sub, schema)]
    path = list(error.absolute_path)
    keyword = str(error.validator)
    if keyword == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        return [(_pointer([*path, name]), "required") for name in missing]
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        known = set(
            (error.schema.get("properties") or {}) if isinstance(error.schema, dict) else ()
        )
        return [(_pointer([*path, name]), keyword) for name in error.instance if name not in known]
    return [(_pointer(path), keyword)]


def validate(flow: FlowLike, data: Any, lang: str = "de") -> list[FieldError]:
    """Every problem of ``data`` against the flow's schema, one per field and keyword, in
    document order of the pointers; ``[]`` when the form is valid."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}")
    schema = public(flow)["schema"]
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found: dict[tuple[str, str], FieldError] = {}
    for error in validator.iter_errors(data):
        for pointer, keyword in _errors(error, schema):
            field_schema = schema_at(schema, pointer)
            found.setdefault(
                (pointer, keyword), FieldError(pointer, _message(field_schema, keyword, lang))
            )
    return sorted(found.values(), key=lambda e: e.pointer)
