"""Submitting a case against uploading the same bytes with ``vault put``, in one run.

    .venv/bin/python benchmarks/bench_submit.py                        # 10 x 5 MB PDFs
    OZG_BENCH_SUBMIT_MB=1 .venv/bin/python benchmarks/bench_submit.py  # 10 x 1 MB, quick
    OZG_BENCH_PROFILE=1 ...                      # also cProfile one submit (client side)

A real server process (``ozg-commons serve`` on a fresh data directory, see
``benchmarks/served.py``) and the demo applicant's client
(:class:`gateway.client.applicant.ApplicantClient`). Each round, interleaved so that a change
of load on the shared machine hits both alike:

- ``put``: the client's ``vault put`` of the ten PDFs (sanitize, seal to the applicant's key,
  stream the upload): the baseline;
- ``submit``: ``ApplicantClient.submit`` of a prepared case (started, draft sealed, authority
  chosen, fee paid; untimed) with those ten vault documents: each is downloaded and decrypted
  from the vault, hashed, encrypted as a JWE to the destination's key and uploaded, with the
  summary PDF, the metadata, the form and the manifest.

The best time of each over ``OZG_BENCH_ROUNDS`` rounds (default 3). Target (issue 12):
``submit_vs_put`` = submit / put ≤ 1.5.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served import Applicant, make_pdf, server

DOCS = 10
MB = float(os.environ.get("OZG_BENCH_SUBMIT_MB", "5"))
DOC_BYTES = int(MB * 1_000_000)
ROUNDS = int(os.environ.get("OZG_BENCH_ROUNDS", "3"))
PROFILE = os.environ.get("OZG_BENCH_PROFILE") == "1"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ozg-bench-submit-") as tmp:
        work = Path(tmp)
        with server(work / "srv") as (base, _process):
            applicant = Applicant.sign_up(base, work / "srv")
            pdfs = [work / f"doc{n}.pdf" for n in range(DOCS)]
            for path in pdfs:
                make_pdf(path, DOC_BYTES)
            total = sum(p.stat().st_size for p in pdfs)
            print(
                f"{DOCS} PDFs of {DOC_BYTES / 1e6:g} MB ({total / 2**20:.1f} MiB), "
                f"{ROUNDS} rounds, load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
            )
            puts, submits = [], []
            for n in range(ROUNDS):
                applicant.fresh_token()
                os.sync()
                t = time.perf_counter()
                ids = [applicant.client.vault.put(p, applicant.key)[0] for p in pdfs]
                puts.append(time.perf_counter() - t)
                case_id, payment_id = applicant.prepare_case()
                os.sync()
                profiler = cProfile.Profile() if PROFILE and n == ROUNDS - 1 else None
                t = time.perf_counter()
                if profiler:
                    profiler.enable()
                applicant.client.submit(
                    case_id,
                    applicant.flow,
                    applicant.form,
                    applicant.documents(ids),
                    applicant.key,
                    destination_id=applicant.destination_id,
                    authority=applicant.authority.authority,
                    payment_id=payment_id,
                )
                if profiler:
                    profiler.disable()
                submits.append(time.perf_counter() - t)
                print(f"round {n + 1}: put {puts[-1]:.2f} s, submit {submits[-1]:.2f} s")
                if profiler:
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    put, submit = min(puts), min(submits)
    ratio = submit / put
    print(f"vault put  {put:7.2f} s  {total / 1e6 / put:6.1f} MB/s (baseline)")
    print(f"submit     {submit:7.2f} s  {total / 1e6 / submit:6.1f} MB/s  ratio {ratio:.2f}")
    print(
        f"RESULT submit_vs_put={ratio:.2f} submit_s={submit:.2f} put_s={put:.2f} "
        f"docs={DOCS} doc_mb={MB:g} rounds={ROUNDS} target_met={ratio <= 1.5}"
    )


if __name__ == "__main__":
    main()
