"""commons.encoding: parse_json and canonical_json refuse too deep nesting with ValueError."""

from __future__ import annotations

import pytest

from commons.encoding import canonical_json, parse_json


def test_parse_json_is_json_loads_with_options() -> None:
    assert parse_json(b'{"a":[1,2.5,null]}') == {"a": [1, 2.5, None]}
    with pytest.raises(ValueError, match="duplicate"):
        parse_json('{"a":1,"a":2}', object_pairs_hook=_no_duplicates)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate member")
    return dict(pairs)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deep_nesting_is_a_value_error_not_a_recursion_error(opening: str) -> None:
    """Found by fuzzing (tests/fuzz): json.loads raises RecursionError here."""
    with pytest.raises(ValueError, match="nested too deeply"):
        parse_json(opening * 100_000)


def test_canonical_json_of_a_too_deep_value_is_a_value_error() -> None:
    value: list[object] = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(ValueError, match="nested too deeply"):
        canonical_json(value)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    "text",
    [
        b"QUJ",
        b"QUJD+UJD",
        b"QUJD/UJD",
        b"QUI=",
        b"QQ==",
        b"QU=D",
        b"QUJD\nQUJ",
        b"QU D",
        b"Q\xffJD",
    ],
)
def test_quanta_refuse_what_is_not_whole_unpadded_base64url(
    monkeypatch: pytest.MonkeyPatch, fast: bool, text: bytes
) -> None:
    """The same refusals with the SIMD codec (whose own validation would take ``+``, ``/``
    and final padding) and with binascii."""
    from commons import encoding

    if not fast:
        monkeypatch.setattr(encoding, "_fast", None)
    with pytest.raises(ValueError, match="quanta"):
        encoding.b64url_decode_quanta(text)


@pytest.mark.parametrize("fast", [True, False])
def test_quanta_decode_the_whole_alphabet(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    import base64
    import os

    from commons import encoding

    if not fast:
        monkeypatch.setattr(encoding, "_fast", None)
    data = bytes(range(256)) * 3 + os.urandom(3000)
    text = base64.urlsafe_b64encode(data)
    assert b"-" in text
    assert b"_" in text
    assert encoding.b64url_decode_quanta(text) == data
