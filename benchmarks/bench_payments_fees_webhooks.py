"""Fee calculation and webhook verification throughput, as ratios against baselines
measured in the same run.

- fee: ``payments.fees.calculate`` vs a bare dictionary lookup of the base fee (the least
  any calculator must do);
- webhook: ``payments.signing.verify`` (header parsing, HMAC-SHA512, constant-time compare,
  tolerance window) vs a bare ``hmac.new(...).hexdigest()`` + ``compare_digest``.

Run: ``.venv/bin/python benchmarks/bench_payments_fees_webhooks.py`` (``OZG_BENCH_FULL=1``
for 10x the iterations).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime

from payments import fees, signing

N = 20_000 * (10 if os.environ.get("OZG_BENCH_FULL") == "1" else 1)


def rate(fn: Callable[[], object], n: int) -> int:
    """Calls per second, best of three."""
    best = None
    for _ in range(3):
        start = time.perf_counter_ns()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter_ns() - start
        best = elapsed if best is None else min(best, elapsed)
    assert best is not None
    return n * 1_000_000_000 // max(best, 1)


def main() -> None:
    rule = fees.FeeRule("extension")
    facts = fees.CaseFacts(
        decision_date=date(2026, 11, 28), applicant_age=16, duration_months=12, express=True
    )
    fees.calculate(rule, facts)  # load the catalogue once
    table = {"permit_extension_over_3_months": 9300}
    fee_rate = rate(lambda: fees.calculate(rule, facts), N)
    base_rate = rate(lambda: table["permit_extension_over_3_months"], N)
    assoc = replace(facts, nationality="TUR", association_rights=True)
    assoc_rate = rate(lambda: fees.calculate(rule, assoc), N)

    secret = b"s" * 32
    body = b'{"kind":"status","event_id":"e","transaction_id":"t","status":"BOOKED"}' * 4
    stamp = 1_800_000_000
    headers = signing.signed_headers(secret, stamp, body)
    now = datetime.fromtimestamp(stamp, UTC)
    expected = headers[signing.SIGNATURE_HEADER]

    def bare() -> bool:
        mac = hmac.new(secret, str(stamp).encode() + b"." + body, hashlib.sha512).hexdigest()
        return hmac.compare_digest(mac, expected)

    verify_rate = rate(lambda: signing.verify(secret, headers, body, now=now), N)
    bare_rate = rate(bare, N)

    print(f"fee calculation      {fee_rate:>10} /s   baseline dict lookup {base_rate:>10} /s")
    print(f"fee with § 52a       {assoc_rate:>10} /s")
    print(f"webhook verification {verify_rate:>10} /s   baseline bare HMAC   {bare_rate:>10} /s")
    fee_ratio = f"{base_rate * 100 // max(fee_rate, 1) / 100}"
    verify_ratio = f"{bare_rate * 100 // max(verify_rate, 1) / 100}"
    print(
        f"RESULT fee_per_s={fee_rate} fee_slowdown_vs_lookup={fee_ratio} "
        f"verify_per_s={verify_rate} verify_slowdown_vs_bare_hmac={verify_ratio}"
    )


if __name__ == "__main__":
    main()
