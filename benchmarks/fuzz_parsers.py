"""Fuzz every parser that reads outside input, 10^6 executions each (``make fuzz``).

    python benchmarks/fuzz_parsers.py [--runs N] [--seconds S] [--engine auto|atheris|mutate]
                                      [target ...]

Targets: tests/fuzz/targets.py (envelope, bearer-token, receipt, fitconnect-jwe, fitconnect-set,
fitconnect-metadata, destination-signature, checkpoint, pdf, image, webhook), each in its own
process: atheris (coverage-guided libFuzzer over the instrumented Python of ozg-commons,
seeded with valid inputs) when it is installed (``pip install -e '.[fuzz]'``), else the
mutation engine of tests/fuzz/mutate.py. ``--runs`` defaults to ``OZG_FUZZ_RUNS`` or 1,000,000;
``--seconds`` (``OZG_FUZZ_SECONDS``) caps each target's time.

Per target it prints the executions, the time and what was raised: the documented errors
the parser refused inputs with, and anything else (each one a bug; the first input of each
kind is written to ``var/fuzz/<target>-<Exception>.bin``). It ends with
``RESULT target_ok=<targets without unexpected exceptions>/<targets> executions=<total>
unexpected=<total> seconds=<total>`` and exits 1 if any target raised something else.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout's code and its tests package, before any install
PACKAGES = ["commons", "account", "vault", "payments", "compliance", "gateway"]


def _child(name: str, runs: int, seconds: float, engine: str, report: Path) -> None:
    """Fuzz one target in this process and write its stats to ``report`` (JSON)."""
    from tests.fuzz import engine as fuzz_engine
    from tests.fuzz import targets
    from tests.fuzz.mutate import Mutator

    if engine == "atheris":
        import atheris

        # The targets import the parsers when they are built: inside, so they are instrumented.
        with atheris.instrument_imports(include=PACKAGES):
            target = targets.build(name)
    else:
        target = targets.build(name)
    stats = fuzz_engine.Stats(name, engine)
    samples = ROOT / "var" / "fuzz"
    corpus = Path(tempfile.mkdtemp(prefix=f"ozg-fuzz-{name}-corpus-"))
    start = time.perf_counter()

    def finish() -> None:
        stats.seconds = time.perf_counter() - start
        for kind, sample in stats.samples.items():
            samples.mkdir(parents=True, exist_ok=True)
            raw = sample["input_hex"].removesuffix("...")
            (samples / f"{name}-{kind}.bin").write_bytes(bytes.fromhex(raw))
        report.write_text(json.dumps(stats.as_json()))
        targets.cleanup()
        shutil.rmtree(corpus, ignore_errors=True)
        corpus.with_suffix(".dict").unlink(missing_ok=True)

    if engine == "mutate":
        inputs = Mutator(target.seeds, tokens=target.tokens, max_len=target.max_len)
        for data in itertools.chain(target.seeds, inputs):
            stats.execute(target, data)
            if stats.executions >= runs or time.perf_counter() - start > seconds:
                break
        finish()
        return

    def one_input(data: bytes) -> None:
        stats.execute(target, data)
        if stats.executions >= runs or time.perf_counter() - start > seconds:
            finish()
            os._exit(0)  # libFuzzer never returns; the report is written

    for i, seed in enumerate(target.seeds):
        (corpus / f"seed-{i}").write_bytes(seed)
    tokens = corpus.with_suffix(".dict")
    tokens.write_text("".join(f'"{_dict_escape(t)}"\n' for t in target.tokens))
    args = [
        sys.argv[0],
        f"-runs={runs + len(target.seeds) + 100}",
        f"-max_len={target.max_len}",
        f"-dict={tokens}",
        "-len_control=0",  # inputs up to max_len at once: deep nesting needs some length
        "-rss_limit_mb=4096",
        "-timeout=120",
        "-print_final_stats=1",
        str(corpus),
    ]
    atheris.Setup(args, one_input)
    atheris.Fuzz()
    finish()  # only if libFuzzer stopped on its own


def _dict_escape(token: bytes) -> str:
    return "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in token)


def _run_target(name: str, runs: int, seconds: float, engine: str) -> dict[str, Any]:
    log = ROOT / "var" / "fuzz" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = Path(handle.name)
    command = [sys.executable, __file__, "--child", name, "--runs", str(runs),
               "--seconds", str(seconds), "--engine", engine, "--report", str(report)]  # fmt: skip
    start = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
    elapsed = time.perf_counter() - start
    try:
        stats: dict[str, Any] = json.loads(report.read_text() or "{}")
    finally:
        report.unlink(missing_ok=True)
    if not stats:  # the child died: libFuzzer found a crash, a timeout or ran out of memory
        tail = log.read_text(errors="replace").splitlines()[-15:]
        stats = {"target": name, "engine": engine, "executions": 0, "seconds": elapsed,
                 "outcomes": {}, "unexpected": {f"child exit {done.returncode}": 1},
                 "samples": {"log": {"traceback": "\n".join(tail)}}}  # fmt: skip
    return stats


def _line(stats: dict[str, Any]) -> str:
    seconds = stats["seconds"] or 1e-9
    seen = ", ".join(f"{k} {v}" for k, v in list(stats["outcomes"].items())[:6])
    bad = ", ".join(f"{k} {v}" for k, v in stats["unexpected"].items()) or "none"
    return (
        f"{stats['target']:<15} {stats['engine']:<8} executions={stats['executions']:>8} "
        f"time={stats['seconds']:>7.1f}s rate={stats['executions'] / seconds:>6.0f}/s "
        f"unexpected: {bad}\n{'':<16}seen: {seen}"
    )


def main() -> int:
    from tests.fuzz.targets import NAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", metavar="target", help=", ".join(NAMES))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("OZG_FUZZ_RUNS", 10**6)))
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("OZG_FUZZ_SECONDS", "inf"))
    )
    parser.add_argument("--engine", choices=["auto", "atheris", "mutate"], default="auto")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    engine = options.engine
    if engine == "auto":
        engine = "atheris" if importlib.util.find_spec("atheris") else "mutate"
    if options.child:
        _child(options.child, options.runs, options.seconds, engine, options.report)
        return 0
    names = options.targets or list(NAMES)
    unknown = sorted(set(names) - set(NAMES))
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {', '.join(NAMES)}")
    print(f"fuzzing {len(names)} targets, {options.runs} executions each, engine {engine}")
    results = []
    for name in names:
        stats = _run_target(name, options.runs, options.seconds, engine)
        results.append(stats)
        print(_line(stats), flush=True)
        for kind, sample in stats["samples"].items():
            print(f"{'':<16}{kind}: {sample['traceback'].strip().splitlines()[-1]}")
    ok = sum(1 for s in results if not s["unexpected"])
    executions = sum(s["executions"] for s in results)
    unexpected = sum(sum(s["unexpected"].values()) for s in results)
    seconds = sum(s["seconds"] for s in results)
    print(
        f"RESULT target_ok={ok}/{len(results)} executions={executions} "
        f"unexpected={unexpected} seconds={seconds:.0f} engine={engine}"
    )
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
