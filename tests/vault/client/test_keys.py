"""The applicant key pair on the device: wrapping under the passphrase and the recovery code."""

from __future__ import annotations

import pytest

from vault.client import keys
from vault.errors import WrongSecret


def test_passphrase_wrapping() -> None:
    pair = keys.generate("pass phrase one", keys.ARGON2_MINIMUM)
    key = keys.unwrap_private_key(
        pair.wrapped_by_passphrase, pair.kid, passphrase="pass phrase one"
    )
    assert key.private_numbers() == pair.private_key.private_numbers()
    for wrong in ({"passphrase": "wrong"}, {"recovery_code": "AAAA-BBBB"}, {}):
        with pytest.raises(WrongSecret):
            keys.unwrap_private_key(pair.wrapped_by_passphrase, pair.kid, **wrong)
    with pytest.raises(WrongSecret):
        keys.unwrap_private_key(pair.wrapped_by_recovery, pair.kid, recovery_code="AAAA-BBBB")
    weak = keys.wrap_with_passphrase(pair.private_key, "x", {"m": 1024, "t": 1, "p": 1})
    with pytest.raises(WrongSecret, match="minimum"):
        keys.unwrap_private_key(weak, pair.kid, passphrase="x")
