"""The permit-flow contract: a flow is a component with more hooks.

A flow (a route to a residence permit: employment, extension, family reunification, ...) is
discovered through the entry-point group ``ozg_commons.flows``. Everything that reads form
values is **data**, because the server never sees form values: the form's JSON Schema, which
answers feed the fee quote, the layout of the PDF summary and the mapping onto XAusländer are
JSON documents that the applicant's device (the Python client and the browser) and the
authority's client interpret. The flow's Python hooks run on the server and receive no form
values: routing, retention, declarations.

A flow keeps its data in one directory, described by ``flow.json`` (format ``ozg-flow/1``,
specified in ``docs/flows.md``); :class:`Flow` loads and checks it on first use, and
:meth:`Flow.startup_problems` reports a malformed directory before the gateway serves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import Any, ClassVar

from commons.components import Component

FLOW_FORMAT = "ozg-flow/1"
SUMMARY_FORMAT = "ozg-flow-summary/1"
XAUSLAENDER_FORMAT = "ozg-flow-xauslaender/1"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
LEIKA_PREFIX = "urn:de:fim:leika:leistung:"
LANGUAGES = ("de", "en")
#: The eIDAS-style levels of the principal (``account.principal.TrustLevel``), lowest first.
TRUST_LEVELS = ("basis", "substantiell", "hoch")
#: The case facts a flow's fee mapping may produce (see ``payments.CaseFacts``); the server
#: learns exactly these, after the applicant has seen them.
FEE_FACTS = (
    "applicant_age",
    "permit_type",
    "duration_months",
    "settlement_category",
    "nationality",
    "association_rights",
    "benefits",
    "recognised_refugee",
    "express",
)
#: How the device derives a fee fact from the answer at ``from`` (docs/flows.md, "Fee facts").
DERIVATIONS = ("value", "age", "age_band", "map", "equals")
_FLOW_ID = re.compile(r"[a-z][a-z0-9-]{0,47}")
_LEIKA = re.compile(r"urn:de:fim:leika:leistung:\d{14}")
_VERSION = re.compile(r"\d+\.\d+\.\d+")
_DOCUMENT_TYPE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class FlowDefinitionError(ValueError):
    """A flow's data directory is incomplete or malformed; the message names the file and
    the field."""


@dataclass(frozen=True, slots=True)
class Text:
    """A text in plain German and English (more languages come with the flow's catalogue)."""

    de: str
    en: str

    @classmethod
    def parse(cls, value: Any, where: str) -> Text:
        if not isinstance(value, dict) or not all(
            isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES
        ):
            raise FlowDefinitionError(f"{where} needs non-empty 'de' and 'en' texts")
        return cls(de=value["de"], en=value["en"])

    def get(self, lang: str) -> str:
        return self.de if lang == "de" else self.en

    def as_json(self) -> dict[str, str]:
        return {"de": self.de, "en": self.en}


@dataclass(frozen=True, slots=True)
class DocumentRequirement:
    """A document the flow asks for: its type (``passport``, ``biometric_photo``, ...), the
    media types accepted, and whether the application can be submitted without it."""

    type: str
    title: Text
    media_types: tuple[str, ...]
    required: bool
    description: Text | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title.as_json(),
            "description": self.description.as_json() if self.description else None,
            "media_types": list(self.media_types),
            "required": self.required,
        }


@dataclass(frozen=True, slots=True)
class Processing:
    """The flow's entry in the record of processing activities (GDPR Art. 30)."""

    purpose: str
    legal_basis: str
    data_categories: tuple[str, ...]
    data_subjects: tuple[str, ...]
    recipients: tuple[str, ...]
    retention: str

    def as_json(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "data_categories": list(self.data_categories),
            "data_subjects": list(self.data_subjects),
            "recipients": list(self.recipients),
            "retention": self.retention,
        }


@dataclass(frozen=True, slots=True)
class FlowDefinition:
    """``flow.json`` with the documents it names, loaded and checked."""

    id: str
    version: str
    leika: str
    title: Text
    summary: Text
    audience: Text
    legal_basis: str
    trust_to_start: str
    trust_to_submit: str
    documents: tuple[DocumentRequirement, ...]
    fee: dict[str, Any]
    draft_retention_days: int
    processing: Processing
    schema: dict[str, Any]
    summary_layout: dict[str, Any]
    xauslaender: dict[str, Any]
    data_schema_uri: str
    unconfirmed: tuple[str, ...]
    raw: dict[str, Any]

    def public_json(self) -> dict[str, Any]:
        """What ``GET /v1/flows/{id}`` serves: everything a client needs to fill, check,
        summarise and map the form on the device."""
        return {
            **self.metadata_json(),
            "draft_retention_days": self.draft_retention_days,
            "processing": self.processing.as_json(),
            "data_schema_uri": self.data_schema_uri,
            "unconfirmed": list(self.unconfirmed),
            "schema": self.schema,
            "summary_layout": self.summary_layout,
            "xauslaender": self.xauslaender,
        }

    def metadata_json(self) -> dict[str, Any]:
        """The listing entry of ``GET /v1/flows``: no schema, no layouts."""
        return {
            "id": self.id,
            "version": self.version,
            "leika": self.leika,
            "title": self.title.as_json(),
            "summary": self.summary.as_json(),
            "audience": self.audience.as_json(),
            "legal_basis": self.legal_basis,
            "trust_levels": {"start": self.trust_to_start, "submit": self.trust_to_submit},
            "documents": [d.as_json() for d in self.documents],
            "fee": self.fee,
        }


# --------------------------------------------------------------------------- JSON pointers
def pointer_tokens(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer (``""`` is the whole document)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"{pointer!r} is not a JSON pointer (it must start with '/')")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


_MISSING = object()


def resolve(document: Any, pointer: str, default: Any = None) -> Any:
    """The value at ``pointer`` in ``document``, or ``default`` when it is absent."""
    value = document
    for token in pointer_tokens(pointer):
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            return default
    return value


def schema_at(schema: Mapping[str, Any], pointer: str) -> Mapping[str, Any] | None:
    """The subschema that describes the value at a *data* pointer: object members through
    ``properties``, array items (any index token, or ``-``) through ``items``. ``None`` when
    the schema does not describe that place."""
    node: Mapping[str, Any] = schema
    for token in pointer_tokens(pointer):
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            if not (token.isdigit() or token == "-"):  # noqa: S105 - not a secret
                return None
            node = node["items"]
        elif isinstance(node.get("properties"), dict) and token in node["properties"]:
            node = node["properties"][token]
        else:
            return None
    return node


def subschemas(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``schema`` (properties, items, $defs, combinators...),
    with its location, for the i18n checks."""
    if not isinstance(schema, dict):
        return
    yield path, schema
    for key in ("properties", "$defs", "patternProperties", "dependentSchemas"):
        for name, sub in (schema.get(key) or {}).items():
            yield from subschemas(sub, f"{path}/{key}/{name}")
    for key in ("items", "contains", "not", "if", "then", "else", "additionalProperties"):
        yield from subschemas(schema.get(key), f"{path}/{key}")
    for key in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for i, sub in enumerate(schema.get(key) or ()):
            yield from subschemas(sub, f"{path}/{key}/{i}")


# --------------------------------------------------------------------------- loading
def _read_json(directory: Path, name: str) -> dict[str, Any]:
    if Path(name).name != name:
        raise FlowDefinitionError(f"{name!r}: a flow's files sit next to flow.json")
    path = directory / name
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FlowDefinitionError(f"{name} cannot be read: {exc.strerror}") from None
    except ValueError as exc:
        raise FlowDefinitionError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise FlowDefinitionError(f"{name} must hold a JSON object")
    return value


def _field(data: Mapping[str, Any], key: str, kind: type, where: str = "flow.json") -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise FlowDefinitionError(f"{where}: '{key}' must be a {kind.__name__}")
    if isinstance(value, str | list | dict) and not value:
        raise FlowDefinitionError(f"{where}: '{key}' must not be empty")
    return value


def _strings(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    values = _field(data, key, list, where)
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise FlowDefinitionError(f"{where}: '{key}' must list non-empty texts")
    return tuple(values)


def _check_schema(schema: dict[str, Any], name: str) -> None:
    """Valid draft 2020-12, and every title in both languages (the ``x-i18n`` convention)."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema.get("$schema") != SCHEMA_DIALECT:
        raise FlowDefinitionError(f"{name}: '$schema' must be {SCHEMA_DIALECT!r}")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the root"
        raise FlowDefinitionError(
            f"{name}: not a valid 2020-12 schema at {where}: {exc.message}"
        ) from None
    if schema.get("type") != "object":
        raise FlowDefinitionError(f"{name}: the form must be an object")
    for path, sub in subschemas(schema):
        i18n = sub.get("x-i18n")
        where = f"{name} {path}"
        if i18n is None:
            if "title" in sub or "description" in sub:
                raise FlowDefinitionError(f"{where}: a title or description needs x-i18n")
            continue
        if not isinstance(i18n, dict):
            raise FlowDefinitionError(f"{where}: x-i18n must be an object")
        unknown = sorted(set(i18n) - {"title", "description", "errors", "enum"})
        if unknown:
            raise FlowDefinitionError(f"{where}: x-i18n has unknown keys {unknown}")
        for key in ("title", "description"):
            if key in i18n:
                text = Text.parse(i18n[key], f"{where}: x-i18n.{key}")
                if sub.get(key) != text.en:
                    raise FlowDefinitionError(f"{where}: '{key}' must repeat x-i18n.{key}.en")
            elif key in sub:
                raise FlowDefinitionError(f"{where}: '{key}' needs x-i18n.{key}")
        for keyword, text in (i18n.get("errors") or {}).items():
            Text.parse(text, f"{where}: x-i18n.errors.{keyword}")
        for value, text in (i18n.get("enum") or {}).items():
            if value not in [str(v) for v in sub.get("enum", ())]:
                raise FlowDefinitionError(
                    f"{where}: x-i18n.enum labels {value!r}, not an enum value"
                )
            Text.parse(text, f"{where}: x-i18n.enum.{value}")
    _check_field_titles(schema, name, "#")


def _check_field_titles(schema: Mapping[str, Any], name: str, path: str) -> None:
    """Every field the form shows (reached through ``properties`` and ``items``) has a title
    in both languages; conditions (``if``/``then``...) need none."""
    for prop, sub in (schema.get("properties") or {}).items():
        at = f"{path}/properties/{prop}"
        if not isinstance(sub, dict) or not isinstance(sub.get("x-i18n", {}).get("title"), dict):
            raise FlowDefinitionError(f"{name} {at}: a field needs x-i18n.title")
        _check_field_titles(sub, name, at)
    if isinstance(schema.get("items"), dict):
        _check_field_titles(schema["items"], name, f"{path}/items")


def _pointer_in_schema(schema: Mapping[str, Any], pointer: Any, where: str) -> None:
    try:
        found = isinstance(pointer, str) and schema_at(schema, pointer) is not None
    except ValueError:
        found = False
    if not found:
        raise FlowDefinitionError(f"{where}: {pointer!r} is not a place the schema describes")


def _check_fee(fee: dict[str, Any], schema: Mapping[str, Any]) -> None:
    _field(fee, "procedure", str, "flow.json: fee")
    if not isinstance(fee.get("express_available", False), bool):
        raise FlowDefinitionError("flow.json: fee.express_available must be true or false")
    facts = fee.get("facts", {})
    fixed = fee.get("fixed", {})
    if not isinstance(facts, dict) or not isinstance(fixed, dict):
        raise FlowDefinitionError("flow.json: fee.facts and fee.fixed must be objects")
    unknown = sorted((set(facts) | set(fixed)) - set(FEE_FACTS))
    if unknown:
        raise FlowDefinitionError(f"flow.json: fee names unknown case facts: {unknown}")
    both = sorted(set(facts) & set(fixed))
    if both:
        raise FlowDefinitionError(f"flow.json: fee facts both fixed and derived: {both}")
    for fact, spec in facts.items():
        where = f"flow.json: fee.facts.{fact}"
        if not isinstance(spec, dict):
            raise FlowDefinitionError(f"{where} must be an object")
        _pointer_in_schema(schema, spec.get("from"), where)
        derive = spec.get("derive", "value")
        if derive not in DERIVATIONS:
            raise FlowDefinitionError(f"{where}: derive must be one of {DERIVATIONS}")
        if derive == "age_band":
            bands = spec.get("bands")
            if not isinstance(bands, list) or not bands or "otherwise" not in spec:
                raise FlowDefinitionError(f"{where}: age_band needs 'bands' and 'otherwise'")
            limits = [b.get("below") if isinstance(b, dict) else None for b in bands]
            valued = all(isinstance(b, dict) and "value" in b for b in bands)
            numbers = [x for x in limits if isinstance(x, int) and valued]
            if len(numbers) != len(limits) or numbers != sorted(numbers):
                raise FlowDefinitionError(f"{where}: bands need ascending integer 'below'")
        if derive == "map" and not isinstance(spec.get("map"), dict):
            raise FlowDefinitionError(f"{where}: map needs a 'map' object")
        if derive == "equals" and "value" not in spec:
            raise FlowDefinitionError(f"{where}: equals needs a 'value'")


def _check_summary(layout: dict[str, Any], schema: Mapping[str, Any], name: str) -> None:
    if layout.get("format") != SUMMARY_FORMAT:
        raise FlowDefinitionError(f"{name}: 'format' must be {SUMMARY_FORMAT!r}")
    Text.parse(layout.get("title"), f"{name}: title")
    for i, section in enumerate(_field(layout, "sections", list, name)):
        where = f"{name}: sections[{i}]"
        if not isinstance(section, dict):
            raise FlowDefinitionError(f"{where} must be an object")
        Text.parse(section.get("heading"), f"{where}.heading")
        for j, item in enumerate(_field(section, "fields", list, where)):
            at = f"{where}.fields[{j}]"
            if not isinstance(item, dict):
                raise FlowDefinitionError(f"{at} must be an object")
            _pointer_in_schema(schema, item.get("pointer"), at)
            if "label" in item:
                Text.parse(item["label"], f"{at}.label")
            for k, sub in enumerate(item.get("each", ())):
                _pointer_in_schema(schema, f"{item['pointer']}/0{sub}", f"{at}.each[{k}]")


def _check_mapping(
    entries: Any, schema: Mapping[str, Any], name: str, where: str, prefix: str = ""
) -> None:
    if not isinstance(entries, list) or not entries:
        raise FlowDefinitionError(f"{name}: {where} must be a non-empty list")
    for i, entry in enumerate(entries):
        at = f"{name}: {where}[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("to"), str):
            raise FlowDefinitionError(f"{at} needs 'to' (an XAusländer path)")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(/[A-Za-z][A-Za-z0-9]*)*", entry["to"]):
            raise FlowDefinitionError(f"{at}: 'to' is names joined by '/'")
        if ("from" in entry) == ("const" in entry):
            raise FlowDefinitionError(f"{at} needs exactly one of 'from' and 'const'")
        if "from" in entry:
            _pointer_in_schema(schema, prefix + entry["from"], at)
        if "each" in entry:
            _check_mapping(
                entry["each"], schema, name, f"{where}[{i}].each", prefix + entry["from"] + "/0"
            )
        if not isinstance(entry.get("unconfirmed", False), bool):
            raise FlowDefinitionError(f"{at}: 'unconfirmed' is true or false")


def _check_xauslaender(mapping: dict[str, Any], schema: Mapping[str, Any], name: str) -> None:
    if mapping.get("format") != XAUSLAENDER_FORMAT:
        raise FlowDefinitionError(f"{name}: 'format' must be {XAUSLAENDER_FORMAT!r}")
    _field(mapping, "model", str, name)
    _strings(mapping, "unconfirmed", name)
    _check_mapping(mapping.get("mappings"), schema, name, "mappings")


def _documents(data: Mapping[str, Any]) -> tuple[DocumentRequirement, ...]:
    documents = []
    for i, doc in enumerate(_field(data, "documents", list)):
        where = f"flow.json: documents[{i}]"
        if not isinstance(doc, dict):
            raise FlowDefinitionError(f"{where} must be an object")
        kind = _field(doc, "type", str, where)
        if not _DOCUMENT_TYPE.fullmatch(kind):
            raise FlowDefinitionError(f"{where}: type is lower-case letters, digits and _")
        media = _field(doc, "media_types", list, where)
        if not all(isinstance(m, str) and re.fullmatch(r"[a-z]+/[a-z0-9.+-]+", m) for m in media):
            raise FlowDefinitionError(f"{where}: media_types must be MIME types")
        if not isinstance(doc.get("required"), bool):
            raise FlowDefinitionError(f"{where}: required must be true or false")
        documents.append(
            DocumentRequirement(
                type=kind,
                title=Text.parse(doc.get("title"), f"{where}.title"),
                media_types=tuple(media),
                required=doc["required"],
                description=(
                    Text.parse(doc["description"], f"{where}.description")
                    if "description" in doc
                    else None
                ),
            )
        )
    types = [d.type for d in documents]
    if len(set(types)) != len(types):
        raise FlowDefinitionError("flow.json: a document type is listed twice")
    return tuple(documents)


def load_definition(directory: Path) -> FlowDefinition:
    """Read and check a flow's data directory (``flow.json`` and the files it names)."""
    data = _read_json(directory, "flow.json")
    if data.get("format") != FLOW_FORMAT:
        raise FlowDefinitionError(f"flow.json: 'format' must be {FLOW_FORMAT!r}")
    flow_id = _field(data, "id", str)
    if not _FLOW_ID.fullmatch(flow_id):
        raise FlowDefinitionError("flow.json: 'id' is lower-case letters, digits and '-'")
    version = _field(data, "version", str)
    if not _VERSION.fullmatch(version):
        raise FlowDefinitionError("flow.json: 'version' must be MAJOR.MINOR.PATCH")
    leika = _field(data, "leika", str)
    if not _LEIKA.fullmatch(leika):
        raise FlowDefinitionError(f"flow.json: 'leika' must be {LEIKA_PREFIX}<14 digits>")
    trust = _field(data, "trust_levels", dict)
    for step in ("start", "submit"):
        if trust.get(step) not in TRUST_LEVELS:
            raise FlowDefinitionError(
                f"flow.json: trust_levels.{step} must be one of {', '.join(TRUST_LEVELS)}"
            )
    if TRUST_LEVELS.index(trust["start"]) > TRUST_LEVELS.index(trust["submit"]):
        raise FlowDefinitionError("flow.json: trust_levels.start is above trust_levels.submit")
    retention = _field(data, "draft_retention_days", int)
    if not 1 <= retention <= 365:
        raise FlowDefinitionError("flow.json: draft_retention_days must be between 1 and 365")
    processing = _field(data, "processing", dict)
    where = "flow.json: processing"
    files = _field(data, "files", dict)
    schema_name = _field(files, "schema", str, "flow.json: files")
    schema = _read_json(directory, schema_name)
    _check_schema(schema, schema_name)
    fee = _field(data, "fee", dict)
    _check_fee(fee, schema)
    summary_name = _field(files, "summary", str, "flow.json: files")
    summary_layout = _read_json(directory, summary_name)
    _check_summary(summary_layout, schema, summary_name)
    mapping_name = _field(files, "xauslaender", str, "flow.json: files")
    xauslaender = _read_json(directory, mapping_name)
    _check_xauslaender(xauslaender, schema, mapping_name)
    unconfirmed = data.get("unconfirmed", [])
    if not isinstance(unconfirmed, list) or not all(isinstance(u, str) for u in unconfirmed):
        raise FlowDefinitionError("flow.json: 'unconfirmed' must list texts")
    return FlowDefinition(
        id=flow_id,
        version=version,
        leika=leika,
        title=Text.parse(data.get("title"), "flow.json: title"),
        summary=Text.parse(data.get("summary"), "flow.json: summary"),
        audience=Text.parse(data.get("audience"), "flow.json: audience"),
        legal_basis=_field(data, "legal_basis", str),
        trust_to_start=trust["start"],
        trust_to_submit=trust["submit"],
        documents=_documents(data),
        fee=fee,
        draft_retention_days=retention,
        processing=Processing(
            purpose=_field(processing, "purpose", str, where),
            legal_basis=_field(processing, "legal_basis", str, where),
            data_categories=_strings(processing, "data_categories", where),
            data_subjects=_strings(processing, "data_subjects", where),
            recipients=_strings(processing, "recipients", where),
            retention=_field(processing, "retention", str, where),
        ),
        schema=schema,
        summary_layout=summary_layout,
        xauslaender=xauslaender,
        data_schema_uri=_field(data, "data_schema_uri", str),
        unconfirmed=tuple(unconfirmed),
        raw=data,
    )


class Flow(Component):
    """The base of every permit flow. A subclass names itself ``flow-<id>`` and keeps its
    data next to its module (or sets :attr:`data_directory`)::

        class EmploymentFlow(Flow):
            name = "flow-employment"
            summary = "Residence permit for employment (§§ 18a, 18b AufenthG)"

    Its processing activity, audited actions and draft retention are declared from
    ``flow.json`` by the gateway's ``flows`` component, unless the flow overrides
    :meth:`declarations` itself.
    """

    #: The directory holding ``flow.json``; default: the subclass module's directory.
    data_directory: ClassVar[Path | None] = None
    depends_on = ("account", "vault", "payments", "compliance")

    @cached_property
    def definition(self) -> FlowDefinition:
        directory = self.data_directory
        if directory is None:
            module = import_module(type(self).__module__)
            if module.__file__ is None:  # pragma: no cover - namespace packages
                raise FlowDefinitionError(f"{type(self).__qualname__} has no data directory")
            directory = Path(module.__file__).parent
        try:
            definition = load_definition(directory)
        except FlowDefinitionError as exc:
            raise FlowDefinitionError(f"flow {self.name!r}: {exc}") from None
        if f"flow-{definition.id}" != self.name:
            raise FlowDefinitionError(
                f"flow {self.name!r}: flow.json names the id {definition.id!r}"
            )
        return definition

    def startup_problems(self, settings: Any) -> list[str]:
        try:
            self.definition  # noqa: B018 - loading it is the check
        except FlowDefinitionError as exc:
            return [str(exc)]
        return []
