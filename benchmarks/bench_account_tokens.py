"""Bearer token verification cost: the full verifier against a bare jwcrypto signature check.

Prints the ratios (how much the claim checks, header checks and JWKS cache add over the
signature check alone) and one RESULT line. OZG_BENCH_FULL=1 runs 10x more tokens.
"""

from __future__ import annotations

import functools
import json
import os
import time
from typing import Any

from jwcrypto import jwk, jws

from account.tokens import JwksCache, TokenVerifier

N = 20_000 if os.environ.get("OZG_BENCH_FULL") == "1" else 2_000
ISSUER = "https://id.example/realms/ozg"


def main() -> None:
    results = {}
    for alg, key in (
        ("RS256", jwk.JWK.generate(kty="RSA", size=2048)),
        ("ES256", jwk.JWK.generate(kty="EC", crv="P-256")),
    ):
        key = jwk.JWK(**{**key.export(as_dict=True), "kid": key.thumbprint()})
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": "ozg-api", "exp": now + 3600, "iat": now, "sub": "s"}
        signed = jws.JWS(json.dumps(claims).encode())
        signed.add_signature(
            key, alg=alg, protected=json.dumps({"alg": alg, "kid": key.thumbprint()})
        )
        token = signed.serialize(compact=True)
        public = jwk.JWK(**key.export_public(as_dict=True))

        t0 = time.perf_counter()
        for _ in range(N):
            bare = jws.JWS()
            bare.deserialize(token)
            bare.verify(public, alg=alg)
        baseline = time.perf_counter() - t0

        document: dict[str, Any] = {"keys": [key.export_public(as_dict=True)]}
        verifier = TokenVerifier(
            issuer=ISSUER, audience="ozg-api", keys=JwksCache(functools.partial(dict, document))
        )
        t0 = time.perf_counter()
        for _ in range(N):
            verifier.verify(token)
        full = time.perf_counter() - t0
        ratio = full / baseline
        print(
            f"{alg}: {N} tokens, full verifier / bare signature check = {ratio:.2f}x "
            f"({N / full:.0f} tokens/s)"
        )
        results[alg] = ratio
    print(
        "RESULT " + " ".join(f"{alg.lower()}_overhead_ratio={r:.2f}" for alg, r in results.items())
    )


if __name__ == "__main__":
    main()
