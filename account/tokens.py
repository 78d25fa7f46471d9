"""Bearer JWT verification against an OIDC issuer (Keycloak or the development IdP).

Fail closed: every way a token can be wrong raises :class:`~account.errors.InvalidToken`,
whose ``reason`` says *what* was wrong (``expired``, ``wrong-audience``, ``unknown-key``,
...) without echoing the token. The checks, in order:

1. the compact form has three parts and a JSON header;
2. ``alg`` is on the allow-list (RS256, PS256, ES256): ``none`` and HMAC never are;
3. the header carries no key material (``jwk``, ``jku``, ``x5c``, ``x5u``) and no ``crit``:
   keys come only from the issuer's JWKS;
4. ``kid`` names a key of the issuer's JWKS; an unknown ``kid`` triggers one refetch, at
   most every ``min_refresh_seconds`` (so a flood of forged kids cannot hammer the IdP);
5. the signature verifies with that key and exactly that algorithm (jwcrypto);
6. ``iss`` is the issuer; ``aud`` contains the audience; ``exp`` is in the future and
   ``nbf``/``iat`` not in the future, each with a small leeway; ``auth_time`` (if present)
   not in the future either; time claims are numbers between 0 and the year 9999;
7. the lifetime is plausible: ``exp`` at most :data:`MAX_TOKEN_LIFETIME_SECONDS` from now
   and from ``iat``.
"""

from __future__ import annotations

import binascii
import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from account.errors import InvalidToken
from commons.clock import Clock, system_clock
from commons.encoding import b64url_decode_lenient

ALLOWED_ALGORITHMS = frozenset({"RS256", "PS256", "ES256"})
MAX_TOKEN_LENGTH = 16 * 1024  # Keycloak tokens with many roles stay well below this
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
"""An access token valid for longer (``exp`` from now, or ``exp - iat``) is refused: access
tokens live minutes; a lifetime of days means a mis-issued or forged token."""
# Time claims are seconds since 1970 within what ``datetime`` can represent (year 9999).
_MAX_TIMESTAMP = 253_402_300_799
_KEY_TYPES = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
_EMBEDDED_KEY_HEADERS = ("jwk", "jku", "x5c", "x5u")

JwksFetcher = Callable[[], Mapping[str, Any]]


class JwksCache:
    """The issuer's signing keys, fetched lazily, refetched (rate-limited) on an unknown kid."""

    def __init__(
        self,
        fetch: JwksFetcher,
        *,
        min_refresh_seconds: float = 60,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh_seconds
        self._monotonic = monotonic
        self._keys: dict[str, jwk.JWK] = {}
        self._loaded_at: float | None = None
        self._refetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> jwk.JWK | None:
        with self._lock:
            if self._loaded_at is None:
                self._refresh()
            if kid in self._keys:
                return self._keys[kid]
            # An unknown kid may be a rotated key: refetch, but at most once per interval,
            # so forged kids cannot make us hammer the identity provider.
            now = self._monotonic()
            if self._refetched_at is None or now - self._refetched_at >= self._min_refresh:
                self._refetched_at = now
                self._refresh()
            return self._keys.get(kid)

    def _refresh(self) -> None:
        document = self._fetch()
        self.fetches += 1
        self._loaded_at = self._monotonic()
        keys: dict[str, jwk.JWK] = {}
        for entry in document.get("keys", []):
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str) or entry.get("kty") not in ("RSA", "EC"):
                continue
            public = {k: v for k, v in entry.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
            keys[kid] = jwk.JWK(**public)
        self._keys = keys


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS, or ``InvalidToken('malformed')``."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("malformed")
    try:
        header = json.loads(b64url_decode_lenient(parts[0]))
    except (ValueError, binascii.Error, RecursionError):  # RecursionError: deep nesting
        raise InvalidToken("malformed") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed")
    return header


class TokenVerifier:
    """Verifies compact JWS access tokens of one issuer for one audience."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: JwksCache,
        leeway_seconds: int = 30,
        clock: Clock = system_clock,
        algorithms: frozenset[str] = ALLOWED_ALGORITHMS,
        max_lifetime_seconds: int = MAX_TOKEN_LIFETIME_SECONDS,
    ) -> None:
        if not algorithms <= ALLOWED_ALGORITHMS:
            raise ValueError("only RS256, PS256 and ES256 may be allowed")
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.leeway = leeway_seconds
        self.clock = clock
        self.algorithms = algorithms
        self.max_lifetime = max_lifetime_seconds

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; raises :class:`InvalidToken`."""
        header = unverified_header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidToken("algorithm")
        if any(name in header for name in _EMBEDDED_KEY_HEADERS) or "crit" in header:
            raise InvalidToken("embedded-key")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("unknown-key")
        key = self.keys.key(kid)
        if key is None:
            raise InvalidToken("unknown-key")
        if key.get("kty") != _KEY_TYPES[alg]:
            raise InvalidToken("signature")
        try:
            signed = jws.JWS()
            signed.allowed_algs = [alg]
            signed.deserialize(token)
            signed.verify(key, alg=alg)
            claims = json.loads(signed.payload)
        except (JWException, ValueError, TypeError, RecursionError):
            raise InvalidToken("signature") from None
        if not isinstance(claims, dict):
            raise InvalidToken("malformed")
        self.check_claims(claims)
        return claims

    def check_claims(self, claims: Mapping[str, Any]) -> None:
        """The time, issuer and audience checks (also used for introspected tokens)."""
        if claims.get("iss") != self.issuer:
            raise InvalidToken("wrong-issuer")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise InvalidToken("wrong-audience")
        now = self.clock.now().timestamp()
        exp = claims.get("exp")
        if not _is_number(exp):
            raise InvalidToken("malformed")
        if now > exp + self.leeway:
            raise InvalidToken("expired")
        if exp > now + self.max_lifetime + self.leeway:
            raise InvalidToken("lifetime")
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if value is None:
                continue
            if not _is_number(value):
                raise InvalidToken("malformed")
            if float(value) > now + self.leeway:
                raise InvalidToken("not-yet-valid")
        iat = claims.get("iat")
        if iat is not None and exp - iat > self.max_lifetime + self.leeway:
            raise InvalidToken("lifetime")
        # auth_time decides whether an erased account may start over and whether an
        # authentication is recent enough: one in the future would pass both for too long.
        auth_time = claims.get("auth_time")
        if auth_time is not None:
            if not _is_number(auth_time):
                raise InvalidToken("malformed")
            if float(auth_time) > now + self.leeway:
                raise InvalidToken("auth-time-in-future")
        typ = claims.get("typ")
        if typ is not None and typ != "Bearer":
            raise InvalidToken("wrong-type")


def _is_number(value: object) -> TypeGuard[int | float]:
    """A JSON number usable as a time: finite (json.loads accepts Infinity and NaN) and
    within 0 and the year 9999 (an ``exp`` of 10**400 is an int that no float can hold)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return 0 <= value <= _MAX_TIMESTAMP
