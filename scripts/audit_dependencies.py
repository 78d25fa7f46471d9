"""Audit the locked dependencies (requirements.lock) with pip-audit.

A known vulnerability in a locked version fails (exit 1), whatever else happened. When the
advisory service cannot be asked, or has no record of the locked versions, the audit cannot
say anything: that is reported as a warning and, unless ``--strict`` is given, does not fail,
so that a machine without a route to the service can still run CI. The warning names every
package that went unaudited; ``--strict`` turns it into a failure.

    python scripts/audit_dependencies.py requirements.lock [--strict]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def _run_pip_audit(lock: Path, report: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "pip_audit",
        "--requirement", str(lock),
        "--require-hashes", "--no-deps", "--disable-pip",
        "--progress-spinner", "off", "--timeout", "30",
        "--format", "json", "--output", str(report),
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("--strict", action="store_true", help="an unaudited package fails")
    args = parser.parse_args()
    if not args.lock.is_file():
        print(f"audit: no lock file at {args.lock} (make lock)", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "audit.json"
        result = _run_pip_audit(args.lock, report_path)
        report = json.loads(report_path.read_text()) if report_path.is_file() else None

    if report is None:
        # pip-audit stopped before it could write a report: most often the service is out
        # of reach (name resolution, connection refused); its last line says which.
        lines = (result.stderr or result.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"pip-audit exited with {result.returncode}"
        return _unaudited(f"pip-audit could not ask the advisory service: {reason}", args.strict)

    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version"
            print(f"audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixed})")
    if vulnerable:
        print(f"audit: {len(vulnerable)} locked package(s) have known vulnerabilities")
        return 1
    audited = len(dependencies) - len(skipped)
    print(f"audit: {audited} of {len(dependencies)} locked packages checked, none vulnerable")
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        first = skipped[0]["skip_reason"]
        return _unaudited(f"{len(skipped)} not audited ({first!r} and alike): {names}", args.strict)
    return 0


def _unaudited(message: str, strict: bool) -> int:
    print(f"audit: WARNING: {message}", file=sys.stderr)
    if strict:
        return 1
    print("audit: WARNING: not failing (no --strict); see README.md, Supply chain", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
