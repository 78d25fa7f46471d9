"""verify_destination_signature refuses malformed signatures with its one error (found by
fuzzing, tests/fuzz: target destination-signature)."""

from __future__ import annotations

import pytest

from commons.encoding import b64url_encode
from gateway.authorities import InvalidDestinationSignature, verify_destination_signature
from gateway.authorities.routing import RoutingKey, sign
from tests.fuzz.targets import rsa_key
from vault import key_id

DESTINATION = "0b9a8e4c-8a36-4d1f-9a55-2f6de1b0c004"
LEIKA = "urn:de:fim:leika:leistung:99010003001006"


def _key() -> RoutingKey:
    private = rsa_key(4096)  # shared with the fuzz targets: RSA-4096 is slow to make
    return RoutingKey(private, key_id(private.public_key()))


def test_a_deeply_nested_header_is_refused_before_the_signature() -> None:
    """Was a RecursionError: the header's JSON is parsed before the signature is checked."""
    nested = b64url_encode(b"[" * 2000 + b"]" * 2000)
    with pytest.raises(InvalidDestinationSignature):
        verify_destination_signature(
            f"{nested}.e30.AAAA", [_key().public_jwk()], destination_id=DESTINATION, leika=LEIKA
        )


def test_a_signed_region_that_is_no_string_is_refused() -> None:
    """Was an AttributeError (``1 .removeprefix``) from a validly signed route."""
    key = _key()
    claims = {
        "destinationId": DESTINATION,
        "services": [{"gebietIDs": [1], "leistungIDs": [LEIKA]}],
    }
    with pytest.raises(InvalidDestinationSignature):
        verify_destination_signature(
            sign(claims, key), [key.public_jwk()], destination_id=DESTINATION, leika=LEIKA
        )
