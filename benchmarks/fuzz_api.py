"""Schemathesis against the whole API as each role, for longer than the suite's bounded run.

The same runner as tests/gateway/test_api_schemathesis.py (tests/gateway/api_fuzz.py: the
app in-process, real development-IdP tokens, every check), on a fresh data directory and
database, with the ``coverage`` phase (every documented boundary and a negative value per
parameter) as well as ``examples`` and ``fuzzing``, and more examples per operation.

    python benchmarks/fuzz_api.py                      # every role, 25 examples per operation
    python benchmarks/fuzz_api.py applicant dpo --max-examples 200 --seed 7
    OZG_FUZZ_API_EXAMPLES=100 make fuzz-api

``--database-url`` fuzzes against PostgreSQL (migrated first; use a database of its own). It
prints per role the cases, operations, seconds and the HTTP statuses seen, then every
distinct finding with a request that reproduces it, and ends with
``RESULT roles=... cases=... findings=0 server_errors=0 ...`` (exit status 1 on any
finding, error or 5xx).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from commons.settings import Settings  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.migrations import upgrade  # noqa: E402
from tests.gateway import api_fuzz  # noqa: E402

PHASES = ("examples", "coverage", "fuzzing", "stateful")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("roles", nargs="*", default=sorted(api_fuzz.ROLES))
    parser.add_argument(
        "--max-examples", type=int, default=int(os.environ.get("OZG_FUZZ_API_EXAMPLES", "25"))
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing", help=f"comma-separated: {PHASES}"
    )
    parser.add_argument("--database-url", default=os.environ.get("OZG_FUZZ_API_DATABASE_URL"))
    args = parser.parse_args()
    phases = tuple(p for p in args.phases.split(",") if p)
    unknown = [r for r in args.roles if r not in api_fuzz.ROLES] + [
        p for p in phases if p not in PHASES
    ]
    if unknown:
        parser.error(f"unknown role or phase: {', '.join(unknown)}")

    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="ozg-fuzz-api-") as tmp:
        data_dir = Path(tmp) / "var"
        url = args.database_url or f"sqlite:///{Path(tmp) / 'fuzz.sqlite3'}"
        upgrade(url)
        app = create_app(Settings(data_dir=data_dir, database_url=url))
        with TestClient(app):
            for role in args.roles:
                result = api_fuzz.run(
                    app, role, max_examples=args.max_examples, seed=args.seed, phases=phases
                )
                results.append(result)
                print(result.report(), flush=True)
                for error in result.errors:
                    print(f"ERROR {error}", flush=True)
        app.state.database.dispose()
        shutil.rmtree(data_dir, ignore_errors=True)

    cases = sum(r.cases for r in results)
    findings = sum(len(r.findings) for r in results)
    errors = sum(len(r.errors) for r in results)
    server_errors = sum(n for r in results for s, n in r.statuses.items() if s >= 500)
    by_check: dict[str, int] = {}
    for result in results:
        for _operation, check, _title in result.findings:
            by_check[check] = by_check.get(check, 0) + 1
    print(
        f"RESULT roles={len(results)} cases={cases} max_examples={args.max_examples} "
        f"seed={args.seed} phases={'+'.join(phases)} findings={findings} errors={errors} "
        f"server_errors={server_errors} "
        f"schema_violations={by_check.get('response_schema_conformance', 0)} "
        f"undocumented_status={by_check.get('status_code_conformance', 0)} "
        f"seconds={time.perf_counter() - started:.0f}"
    )
    return 1 if findings or errors or server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
