"""No float touches money; providers are discovered through entry points; configuration."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from commons.errors import ConfigurationError, ServiceUnavailable
from commons.settings import Settings
from payments import money
from payments.providers.base import ENTRY_POINT_GROUP, PaymentProvider
from payments.providers.sandbox import SandboxPaymentProvider
from payments.providers.xbezahldienste import XBezahldienstePaymentProvider
from payments.references import is_valid_kassenzeichen, new_kassenzeichen, purpose_for
from payments.runtime import PaymentsRuntime, discover_providers

PAYMENTS = Path(__file__).resolve().parents[2] / "payments"


def test_no_float_in_the_payments_package() -> None:
    """An AST scan: no float literal, no ``float(...)``, no ``float`` annotation, no true
    division of anything, anywhere in payments/ (money is integer cents)."""
    offences: list[str] = []
    for path in sorted(PAYMENTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(PAYMENTS.parent)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                offences.append(f"{where} float literal")
            elif isinstance(node, ast.Name) and node.id == "float":
                offences.append(f"{where} float")
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                offences.append(f"{where} true division")
            elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Div):
                offences.append(f"{where} true division")
    assert offences == []


def test_the_scan_would_catch_a_float(tmp_path: Path) -> None:
    tree = ast.parse("fee = amount * 0.5\nx = float(y)\nz = a / 2")
    kinds = {type(n).__name__ for n in ast.walk(tree)}
    assert {"Constant", "Name", "BinOp"} <= kinds
    assert any(isinstance(n, ast.Constant) and isinstance(n.value, float) for n in ast.walk(tree))


def test_money_json_is_exact() -> None:
    text = money.dumps({"a": money.Euros(10), "b": [money.Euros(123456789)], "c": "x"})
    assert text == '{"a":0.10,"b":[1234567.89],"c":"x"}'
    assert money.cents_from_euros(money.loads("1.10")) == 110
    assert money.cents_from_euros(7) == 700
    for bad in (Decimal("0.001"), True, "1.00", None):
        with pytest.raises(ValueError, match="amount"):
            money.cents_from_euros(bad)


def test_kassenzeichen_and_purpose() -> None:
    seen = {new_kassenzeichen() for _ in range(200)}
    assert len(seen) == 200
    assert all(is_valid_kassenzeichen(k) for k in seen)
    k = next(iter(seen))
    assert not is_valid_kassenzeichen(k[:-1] + str((int(k[-1]) + 1) % 10))
    assert len(purpose_for(k)) <= 27


def test_built_ins_are_discovered_through_entry_points() -> None:
    found = discover_providers()
    assert found["sandbox"] is SandboxPaymentProvider
    assert found["xbezahldienste"] is XBezahldienstePaymentProvider
    assert ENTRY_POINT_GROUP == "ozg_commons.payment_providers"
    for cls in found.values():
        assert isinstance(cls.identifier, str)
        assert cls.display_name
        assert cls.processing.legal_basis
        assert cls.processing.retention
        for hook in ("create_payment", "query_status", "handle_notification", "refund", "shred"):
            assert callable(getattr(cls, hook))
    assert "UNSAFE" in SandboxPaymentProvider.display_name


def test_per_authority_configuration_from_a_file(tmp_path: Path) -> None:
    config = tmp_path / "authorities.toml"
    config.write_text(
        """
[authorities.tf]
provider = "xbezahldienste"
[authorities.tf.settings]
base_url = "https://epay.example/api"
originator_id = "o"
endpoint_id = "e"
notification_secret = "s3cret-s3cret-s3cret"
[authorities.tf.booking_data]
haushaltsstelle = "1234"
""",
        encoding="utf-8",
    )
    settings = Settings(
        sections={
            "payments": {"providers": ["sandbox", "xbezahldienste"], "authorities_file": config}
        }
    )
    runtime = PaymentsRuntime.from_settings(settings)
    assert runtime.config_for("tf").provider == "xbezahldienste"
    assert runtime.config_for("tf").booking_data == {"haushaltsstelle": "1234"}
    assert runtime.config_for("other").provider == "sandbox"  # development default
    provider = runtime.provider_for("tf")
    assert isinstance(provider, XBezahldienstePaymentProvider)
    assert isinstance(provider, PaymentProvider)  # satisfies the runtime-checkable protocol


def test_configuration_errors_are_named(tmp_path: Path) -> None:
    config = tmp_path / "authorities.toml"
    config.write_text('[authorities.tf]\nprovider = "xbezahldienste"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="does not enable"):
        PaymentsRuntime.from_settings(Settings(sections={"payments": {"authorities_file": config}}))
    with pytest.raises(ConfigurationError, match="base_url"):
        PaymentsRuntime.from_settings(
            Settings(
                sections={"payments": {"providers": ["xbezahldienste"], "authorities_file": config}}
            )
        )
    config.write_text(
        '[authorities.tf]\nprovider = "xbezahldienste"\n[authorities.tf.settings]\n'
        'base_url = "http://epay.example/api"\noriginator_id = "o"\nendpoint_id = "e"\n'
        'notification_secret = "s"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError, match="base_url"):
        PaymentsRuntime.from_settings(
            Settings(
                sections={"payments": {"providers": ["xbezahldienste"], "authorities_file": config}}
            )
        )
    with pytest.raises(ConfigurationError, match="not installed"):
        PaymentsRuntime.from_settings(Settings(sections={"payments": {"providers": ["pmpayment"]}}))


def test_production_never_falls_back_to_the_sandbox() -> None:
    settings = Settings(
        env="production",
        sections={"payments": {"providers": ["xbezahldienste"]}},
        secret_key=SecretStr("x" * 40),
    )
    runtime = PaymentsRuntime.from_settings(settings)
    with pytest.raises(ServiceUnavailable):
        runtime.config_for("tf")


def test_notification_signature_vector() -> None:
    import json
    from datetime import UTC, datetime

    from payments import signing

    vector = json.loads(
        (PAYMENTS.parent / "tests/vectors/payments/notification-v1.json").read_text()
    )
    secret, body = vector["secret"].encode(), vector["body"].encode()
    assert signing.signature(secret, vector["timestamp"], body) == vector["signature"]
    headers = {
        "X-Payment-Timestamp": str(vector["timestamp"]),
        "X-Payment-Signature": vector["signature"],
    }
    at = datetime.fromtimestamp(vector["timestamp"] + 299, UTC)
    signing.verify(secret, headers, body, now=at)
