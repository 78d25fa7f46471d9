"""Start-up time of the ``ozg-commons`` command line against ``python -c "import typer, rich"``.

    .venv/bin/python benchmarks/bench_cli_startup.py
    OZG_BENCH_RUNS=30 .venv/bin/python benchmarks/bench_cli_startup.py

Each command runs as a whole new process (interpreter start-up, imports, argument parsing,
the help text), interleaved with the baseline in rounds so that a change of load on the shared
machine hits both alike; the median of each is compared, of the wall time and of the CPU
time (user + system, which another process's load changes less). The target (issue 11) is
at most 4x the baseline for each of ``--help``, ``receipt verify --help`` and
``vault ls --help``, in English and, under ``LANG=de_DE.UTF-8``, in German (the help texts
translated from the message catalogue, read and compiled in memory at start-up: the price of
a language other than English).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("OZG_BENCH_RUNS", "15"))
TARGET = 4.0

BASELINE = [sys.executable, "-c", "import typer, rich"]
HELP = {
    "help": [sys.executable, "-m", "gateway", "--help"],
    "receipt_verify_help": [sys.executable, "-m", "gateway", "receipt", "verify", "--help"],
    "vault_ls_help": [sys.executable, "-m", "gateway", "vault", "ls", "--help"],
}
LANGUAGES = {"": "C.UTF-8", "_de": "de_DE.UTF-8"}
COMMANDS = {
    name + suffix: (command, lang)
    for suffix, lang in LANGUAGES.items()
    for name, command in HELP.items()
}


def once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the CPU time (user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    locale = ("LANGUAGE", "LC_ALL", "LC_MESSAGES")  # LANG alone chooses the language
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_") and k not in locale}
    env["COLUMNS"] = "100"
    times: dict[str, list[tuple[float, float]]] = {"baseline": [], **{n: [] for n in COMMANDS}}
    once(BASELINE, env)  # warm the caches (.pyc, page cache)
    for command, lang in COMMANDS.values():
        once(command, {**env, "LANG": lang})
    for _ in range(RUNS):
        times["baseline"].append(once(BASELINE, env))
        for name, (command, lang) in COMMANDS.items():
            times[name].append(once(command, {**env, "LANG": lang}))
    base = statistics.median(t for t, _cpu in times["baseline"])
    base_cpu = statistics.median(cpu for _t, cpu in times["baseline"])
    print(
        f"baseline (import typer, rich): median {base * 1000:.0f} ms, "
        f"CPU {base_cpu * 1000:.0f} ms over {RUNS} runs"
    )
    fields: list[str] = []
    for name in COMMANDS:
        median = statistics.median(t for t, _cpu in times[name])
        cpu = statistics.median(c for _t, c in times[name])
        ratio, cpu_ratio = median / base, cpu / base_cpu
        verdict = "ok" if ratio <= TARGET else f"over the {TARGET:.0f}x target"
        print(
            f"{name:>22}: median {median * 1000:.0f} ms = {ratio:.2f}x ({verdict}); "
            f"CPU {cpu * 1000:.0f} ms = {cpu_ratio:.2f}x"
        )
        fields += [f"{name}_ratio={ratio:.2f}", f"{name}_cpu_ratio={cpu_ratio:.2f}"]
    print(f"RESULT baseline_ms={base * 1000:.0f} {' '.join(fields)} target={TARGET:.0f}")


if __name__ == "__main__":
    main()
