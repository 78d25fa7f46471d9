"""Running a target over inputs and keeping count: what the suite's short runs and
``benchmarks/fuzz_parsers.py`` both report."""

from __future__ import annotations

import time
import traceback
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.fuzz.mutate import Mutator
from tests.fuzz.targets import Target


@dataclass
class Stats:
    target: str
    engine: str
    executions: int = 0
    seconds: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)
    """Documented refusals by error class, and ``accepted``."""
    unexpected: Counter[str] = field(default_factory=Counter)
    """Anything else raised, by exception class: each one is a bug."""
    samples: dict[str, dict[str, str]] = field(default_factory=dict)
    """The first input (hex) and traceback of each unexpected exception class."""

    def execute(self, target: Target, data: bytes) -> None:
        self.executions += 1
        try:
            self.outcomes[target.run(data)] += 1
        except Exception as exc:  # every other exception is the finding
            name = type(exc).__name__
            self.unexpected[name] += 1
            if name not in self.samples:
                self.samples[name] = {
                    "input_hex": data.hex() if len(data) <= 2048 else data[:2048].hex() + "...",
                    "traceback": "".join(traceback.format_exception(exc)[-6:]),
                }

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "engine": self.engine,
            "executions": self.executions,
            "seconds": round(self.seconds, 3),
            "outcomes": dict(self.outcomes.most_common()),
            "unexpected": dict(self.unexpected),
            "samples": self.samples,
        }

    def line(self) -> str:
        """One line: executions, time, rate, what was raised."""
        rate = self.executions / self.seconds if self.seconds else 0.0
        seen = ", ".join(f"{k} {v}" for k, v in self.outcomes.most_common(6))
        bad = ", ".join(f"{k} {v}" for k, v in self.unexpected.items()) or "none"
        return (
            f"{self.target:<15} {self.engine:<7} executions={self.executions} "
            f"time={self.seconds:.1f}s rate={rate:.0f}/s unexpected: {bad} | seen: {seen}"
        )


def run_inputs(target: Target, inputs: Iterable[bytes], engine: str) -> Stats:
    stats = Stats(target.name, engine)
    start = time.perf_counter()
    for data in inputs:
        stats.execute(target, data)
    stats.seconds = time.perf_counter() - start
    return stats


def failure_report(stats: Stats) -> str:
    """The stats line and, per unexpected exception, the start of its input and traceback."""
    lines = [stats.line()]
    for name, sample in stats.samples.items():
        lines += [f"{name}: input {sample['input_hex'][:400]}", sample["traceback"]]
    return "\n".join(lines)


def mutation_run(target: Target, executions: int, *, seed: int = 0) -> Stats:
    """The seeds once each, then mutations of them (deterministic for ``seed``)."""
    mutator = Mutator(target.seeds, tokens=target.tokens, max_len=target.max_len, seed=seed)
    rest = max(0, executions - len(target.seeds))
    inputs = [*target.seeds[:executions], *(next(mutator) for _ in range(rest))]
    return run_inputs(target, inputs, "mutate")
