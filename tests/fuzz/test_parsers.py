"""Short fuzz runs of every parser that reads outside input (docs/security.md, "Fuzzing").

Each target runs its seeds and a few thousand deterministic mutations of them
(``Target.short_runs``) and must raise nothing but its documented errors. The long,
coverage-guided runs (10^6 executions each, atheris) are ``make fuzz``.
"""

from __future__ import annotations

import pytest

from tests.fuzz import targets
from tests.fuzz.engine import Stats, failure_report, mutation_run


@pytest.mark.parametrize("name", targets.NAMES)
def test_only_documented_errors(name: str) -> None:
    target = targets.build(name)
    stats = mutation_run(target, target.short_runs)
    assert not stats.unexpected, failure_report(stats)
    assert stats.executions == target.short_runs
    # Every seed is a valid input, so the run reaches past the first checks.
    assert stats.outcomes["accepted"] >= 1, stats.line()


def test_seeds_are_accepted() -> None:
    """The seeds of the signed formats verify: the targets exercise real keys, not only the
    first refusal."""
    for name in ("bearer-token", "receipt", "fitconnect-jwe", "checkpoint", "envelope"):
        target = targets.build(name)
        assert target.run(target.seeds[0]) == "accepted", name


def test_an_undocumented_exception_is_counted_with_its_input() -> None:
    target = targets.Target("t", "decodes ASCII", lambda data: data.decode("ascii"), [b"ok"])
    stats = Stats("t", "test")
    for data in (b"ok", b"\xff"):
        stats.execute(target, data)
    assert stats.outcomes == {"ok": 1}
    assert stats.unexpected == {"UnicodeDecodeError": 1}
    assert stats.samples["UnicodeDecodeError"]["input_hex"] == "ff"
    assert "UnicodeDecodeError" in failure_report(stats)
