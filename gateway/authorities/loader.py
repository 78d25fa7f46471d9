"""Reading the authorities file (format ``ozg-authorities/1``, see ``docs/authorities.md``).

:func:`load_file` parses ``OZG_AUTHORITIES_FILE``; :func:`build_authority` turns one entry
(from the file or the embedded default) into an :class:`Authority`, validating both keys with
:func:`gateway.fitconnect.keys.validate_destination_key`. Every failure is an
:class:`AuthoritiesFileError` naming the entry and the field (never a secret's value).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from commons.flows import Text
from gateway.authorities.errors import AuthoritiesFileError
from gateway.authorities.registry import (
    Address,
    Authority,
    PortalData,
    ProcessingDuration,
    bare_leika,
    check_ags,
    check_ars,
)
from gateway.authorities.vaultlink import Trust
from gateway.fitconnect.errors import InvalidDestinationKey
from gateway.fitconnect.keys import Purpose, kid_for, validate_destination_key
from gateway.fitconnect.metadata import supported_versions

FORMAT = "ozg-authorities/1"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_REPLY_CHANNELS = ("eMail", "deMail", "fink", "elster", "fitConnect")
_UNITS = ("days", "weeks", "months")


@dataclass(frozen=True, slots=True)
class AuthoritiesFile:
    entries: list[dict[str, Any]]
    leika: dict[str, str]
    base: Path  # relative key and secret files are read from here


def load_file(path: Path) -> AuthoritiesFile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuthoritiesFileError(
            f"OZG_AUTHORITIES_FILE ({path.name}) cannot be read: {exc.strerror}"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuthoritiesFileError(
            f"OZG_AUTHORITIES_FILE ({path.name}) is not valid TOML: {exc}"
        ) from None
    if data.get("format") != FORMAT:
        raise AuthoritiesFileError(f'{path.name}: the first line must be format = "{FORMAT}"')
    unknown = sorted(set(data) - {"format", "leika", "authority"})
    if unknown:
        raise AuthoritiesFileError(f"{path.name}: unknown top-level keys {unknown}")
    entries = data.get("authority")
    if not isinstance(entries, list) or not entries:
        raise AuthoritiesFileError(f"{path.name}: list at least one [[authority]]")
    leika = data.get("leika", {})
    if not isinstance(leika, dict) or not all(isinstance(v, str) for v in leika.values()):
        raise AuthoritiesFileError(f"{path.name}: [leika] maps flow ids to LeiKa keys (strings)")
    for flow, key in leika.items():
        try:
            bare_leika(key)
        except ValueError as exc:
            raise AuthoritiesFileError(f"{path.name}: [leika] {flow}: {exc}") from None
    return AuthoritiesFile(entries, dict(leika), path.parent)


class _Entry:
    """Typed reads from one entry, with errors that name the entry and the field."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, Mapping):
            raise AuthoritiesFileError(f"{where} is not a table")
        self.data, self.where = data, where

    def fail(self, field: str, message: str) -> AuthoritiesFileError:
        return AuthoritiesFileError(f"{self.where}: {field}: {message}")

    def text(self, field: str, *, optional: bool = False) -> str | None:
        value = self.data.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "a non-empty string is required")
        return value

    def str_(self, field: str) -> str:
        value = self.text(field)
        if value is None:  # pragma: no cover - text() raises unless optional
            raise self.fail(field, "a non-empty string is required")
        return value

    def strings(self, field: str, *, default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.data.get(field)
        if value is None and default is not None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "a list of strings is required")
        return tuple(value)

    def table(self, field: str) -> _Entry:
        return _Entry(self.data.get(field), f"{self.where}.{field}")

    def lang(self, field: str) -> Text:
        t = self.table(field)
        return Text(de=t.str_("de"), en=t.str_("en"))

    def url(self, field: str, *, optional: bool = False, https: bool = False) -> str | None:
        value = self.text(field, optional=optional)
        if value is None:
            return None
        parts = urlsplit(value)
        schemes = ("https",) if https else ("http", "https")
        if parts.scheme not in schemes or not parts.netloc:
            raise self.fail(field, f"a URL ({' or '.join(schemes)}) is required")
        return value


def _read_jwk(spec: _Entry, field: str, base: Path) -> dict[str, Any]:
    key = spec.table(field)
    inline, file = key.data.get("jwk"), key.data.get("file")
    if (inline is None) == (file is None):
        raise key.fail("jwk/file", "give exactly one: jwk (inline table) or file (a path)")
    if inline is not None:
        if not isinstance(inline, Mapping):
            raise key.fail("jwk", "an inline table is required")
        return dict(inline)
    if not isinstance(file, str):
        raise key.fail("file", "a path is required")
    path = Path(file) if Path(file).is_absolute() else base / file
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise key.fail("file", f"{path.name} cannot be read: {exc.strerror}") from None
    except ValueError:
        raise key.fail("file", f"{path.name} is not JSON") from None
    if not isinstance(value, dict):
        raise key.fail("file", f"{path.name} is not a JWK object")
    return value


def _secret(entry: _Entry, field: str, base: Path) -> str | None:
    ref = entry.text(field, optional=True)
    if ref is None:
        return None
    kind, _, name = ref.partition(":")
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise entry.fail(field, f"the environment variable {name} is not set")
    elif kind == "file":
        path = Path(name) if Path(name).is_absolute() else base / name
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise entry.fail(field, f"{path.name} cannot be read: {exc.strerror}") from None
    else:
        raise entry.fail(field, "a reference env:NAME or file:PATH is required (never the secret)")
    if len(value.encode()) < 32:
        raise entry.fail(field, "the secret must have at least 32 bytes")
    return value


def _validate_key(
    entry: _Entry,
    field: str,
    jwk: dict[str, Any],
    purpose: Purpose,
    authority: str,
    trust: Trust,
    now: datetime,
    allow_self_signed: bool,
) -> dict[str, Any]:
    try:
        expected = kid_for(jwk) if "kid" in jwk else None
        key = validate_destination_key(
            jwk,
            authority=authority,
            anchors=trust.anchors,
            revocation=trust.revocation,
            now=now,
            purpose=purpose,
            expected_kid=expected,
            allow_self_signed=allow_self_signed,
        )
    except InvalidDestinationKey as exc:
        if "kid is not" in exc.detail:
            raise entry.fail(field, "kid must be the key's RFC 7638 thumbprint") from None
        raise entry.fail(field, exc.detail) from None
    return key.jwk


def build_authority(
    data: Any,
    *,
    index: int,
    base: Path,
    trust: Trust,
    now: datetime,
    allow_self_signed: bool = False,
    production: bool = False,
) -> Authority:
    """One entry as an :class:`Authority`, its keys validated (module doc)."""
    raw_id = data.get("id") if isinstance(data, Mapping) else None
    entry = _Entry(data, f"authority {raw_id!r}" if raw_id else f"authority #{index + 1}")
    ident = entry.str_("id")
    if not _ID.match(ident):
        raise entry.fail("id", "lower-case letters, digits and '-', at most 32 characters")
    try:
        destination = str(uuid.UUID(entry.str_("destination_id")))
    except ValueError:
        raise entry.fail("destination_id", "a UUID is required") from None
    try:
        ars = tuple(check_ars(c) for c in entry.strings("ars", default=()))
        ags = tuple(check_ags(c) for c in entry.strings("ags", default=()))
    except ValueError as exc:
        raise entry.fail("ars/ags", str(exc)) from None
    if not ars and not ags:
        raise entry.fail("ars", "name at least one ARS or AGS code")
    flows = entry.strings("flows")
    if not flows:
        raise entry.fail("flows", "name at least one flow id")
    versions = entry.strings("metadata_versions", default=("1.0.0",))
    unsupported = [v for v in versions if v not in supported_versions()]
    if not versions or unsupported:
        raise entry.fail(
            "metadata_versions",
            f"supported metadata versions: {', '.join(supported_versions())}",
        )
    channels = entry.strings("reply_channels", default=())
    if any(c not in _REPLY_CHANNELS for c in channels):
        raise entry.fail("reply_channels", f"each one of {', '.join(_REPLY_CHANNELS)}")
    callback_url = entry.url("callback_url", optional=True, https=production)
    secret = _secret(entry, "callback_secret", base)
    if callback_url and secret is None:
        raise entry.fail("callback_secret", "a callback URL needs a secret (env:NAME or file:PATH)")
    args = (ident, trust, now, allow_self_signed)
    enc = _validate_key(
        entry, "encryption_key", _read_jwk(entry, "encryption_key", base), "wrapKey", *args
    )
    sig = _validate_key(
        entry, "signature_key", _read_jwk(entry, "signature_key", base), "verify", *args
    )
    return Authority(
        id=ident,
        name=entry.lang("name"),
        destination_id=destination,
        ars=ars,
        ags=ags,
        flows=flows,
        encryption_jwk=enc,
        signature_jwk=sig,
        portal=_portal(entry.table("portal")),
        metadata_versions=versions,
        reply_channels=channels,
        callback_url=callback_url,
        callback_secret=secret,
    )


def _portal(p: _Entry) -> PortalData:
    a = p.table("address")
    d = p.table("processing_duration")
    low, high, unit = d.data.get("min"), d.data.get("max"), d.data.get("unit")
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high):
        raise d.fail("min/max", "whole numbers with 0 <= min <= max are required")
    if unit not in _UNITS:
        raise d.fail("unit", f"one of {', '.join(_UNITS)}")
    demo = p.data.get("demo", False)
    if not isinstance(demo, bool):
        raise p.fail("demo", "true or false")
    url = p.url
    return PortalData(
        short_name=p.text("short_name", optional=True),
        address=Address(
            a.str_("street"), a.str_("house_number"), a.str_("postal_code"), a.str_("city")
        ),
        privacy_policy_url=str(url("privacy_policy_url")),
        accessibility_url=str(url("accessibility_url")),
        imprint_url=str(url("imprint_url")),
        further_information=p.lang("further_information"),
        required_documents=p.lang("required_documents"),
        processing_duration=ProcessingDuration(low, high, unit),
        email=p.text("email", optional=True),
        phone=p.text("phone", optional=True),
        demo=demo,
    )
