"""``GET /v1/receipts/keys``: the one public key set that verifies every receipt.

:func:`configure` loads the deployment's receipt signer once (``app.state.receipt_signer``,
which the account, vault and payments domains sign with) and mounts the route.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from commons.receipts import ReceiptSigner, load_signer
from commons.settings import Settings

router = APIRouter(tags=["receipts"])


def configure(app: FastAPI, settings: Settings) -> None:
    """The receipt signer for every domain, and the key-set route."""
    app.state.receipt_signer = load_signer(settings)
    app.include_router(router, prefix="/v1")


def receipt_jwks(request: Request) -> dict[str, Any]:
    signer: ReceiptSigner = request.app.state.receipt_signer
    return signer.jwks()


@router.get(
    "/receipts/keys",
    summary="The JWKS (RFC 7517) of the receipt signing keys: current and retired",
)
def keys(request: Request, response: Response) -> dict[str, Any]:
    """Every receipt's ``kid`` is one of these keys' RFC 7638 thumbprint (docs/receipts.md)."""
    response.headers["Cache-Control"] = "public, max-age=300"
    return receipt_jwks(request)
