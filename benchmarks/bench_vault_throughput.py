"""Client encrypt/decrypt throughput of the vault envelope against raw AES-256-GCM.

    .venv/bin/python benchmarks/bench_vault_throughput.py        # 256 MiB
    OZG_BENCH_MIB=1024 .venv/bin/python benchmarks/bench_vault_throughput.py

Baselines, measured in the same run over the same bytes: ``cryptography``'s AESGCM over the
same 64 KiB chunks in memory ("raw"), and the same AESGCM loop plus the same file reads and
writes ("raw+io"). Ratios >= 0.60 against raw are the target (docs/vault.md).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault import envelope

CHUNK = envelope.DEFAULT_CHUNK_SIZE


class Null:
    def write(self, data: object) -> int:
        return len(data)  # type: ignore[arg-type]


def best(fn: Callable[[], None], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    size = int(os.environ.get("OZG_BENCH_MIB", "256")) * 1024 * 1024
    data = os.urandom(size)
    view = memoryview(data)
    key = ec.generate_private_key(ec.SECP256R1())
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    out = bytearray(CHUNK + 16)
    aad = b"x" * 32
    sealed_chunks = [
        bytes(aead.encrypt(nonce, view[i : i + CHUNK], aad)) for i in range(0, size, CHUNK)
    ]

    def raw_encrypt() -> None:
        for i in range(0, size, CHUNK):
            aead.encrypt_into(nonce, view[i : i + CHUNK], aad, out)

    def raw_decrypt() -> None:
        plain = bytearray(CHUNK)
        for chunk in sealed_chunks:
            aead.decrypt_into(nonce, chunk, aad, plain)

    with tempfile.TemporaryDirectory() as tmp:
        src, env, dst = Path(tmp) / "plain", Path(tmp) / "envelope", Path(tmp) / "out"
        src.write_bytes(data)

        def raw_io_encrypt() -> None:
            with src.open("rb") as fin, env.open("wb") as fout:
                buf = bytearray(CHUNK)
                while n := fin.readinto(buf):
                    aead.encrypt_into(nonce, memoryview(buf)[:n], aad, memoryview(out)[: n + 16])
                    fout.write(memoryview(out)[: n + 16])

        def seal_file() -> None:
            with src.open("rb") as fin, env.open("wb") as fout:
                envelope.seal(
                    fin, fout, [key.public_key()], filename="f", media_type="x", max_size=2**40
                )

        def open_file() -> None:
            with env.open("rb") as fin, dst.open("wb") as fout:
                envelope.open(fin, fout, key, max_size=2**40)

        def seal_memory() -> None:
            envelope.seal(
                io.BytesIO(data),
                Null(),
                [key.public_key()],
                filename="f",
                media_type="x",
                max_size=2**40,
            )

        env_bytes = io.BytesIO()
        envelope.seal(
            data, env_bytes, [key.public_key()], filename="f", media_type="x", max_size=2**40
        )

        env_blob = env_bytes.getvalue()

        def open_memory() -> None:
            envelope.open(io.BytesIO(env_blob), Null(), key, max_size=2**40)

        t_raw_enc, t_raw_dec = best(raw_encrypt), best(raw_decrypt)
        t_open_mem = best(open_memory)
        t_raw_io = best(raw_io_encrypt)
        t_seal_mem = best(seal_memory)
        t_seal, t_open = best(seal_file), best(open_file)
        assert dst.read_bytes() == data

    mb = size / 1e6
    print(f"size                     {size / 2**20:.0f} MiB, chunk {CHUNK // 1024} KiB")
    print(f"raw AESGCM encrypt       {mb / t_raw_enc:8.0f} MB/s")
    print(f"raw AESGCM decrypt       {mb / t_raw_dec:8.0f} MB/s")
    print(f"raw AESGCM + file io     {mb / t_raw_io:8.0f} MB/s")
    print(
        f"seal (memory -> null)    {mb / t_seal_mem:8.0f} MB/s  ratio {t_raw_enc / t_seal_mem:.2f}"
    )
    print(
        f"seal (file -> file)      {mb / t_seal:8.0f} MB/s  ratio {t_raw_enc / t_seal:.2f}"
        f"  vs raw+io {t_raw_io / t_seal:.2f}"
    )
    print(
        f"open (memory -> null)    {mb / t_open_mem:8.0f} MB/s  ratio {t_raw_dec / t_open_mem:.2f}"
    )
    print(f"open (file -> file)      {mb / t_open:8.0f} MB/s  ratio {t_raw_dec / t_open:.2f}")
    print(
        f"RESULT encrypt_ratio={t_raw_enc / t_seal:.2f} decrypt_ratio={t_raw_dec / t_open:.2f} "
        f"encrypt_ratio_vs_raw_io={t_raw_io / t_seal:.2f} "
        f"encrypt_ratio_memory={t_raw_enc / t_seal_mem:.2f} "
        f"decrypt_ratio_memory={t_raw_dec / t_open_mem:.2f} size_mib={size // 2**20}"
    )


if __name__ == "__main__":
    main()
