"""``GET /v1/flows`` and ``GET /v1/flows/{id}``: public, since a flow definition holds no
personal data. Thin: the catalogue is built once per app by the ``flows`` component."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from commons.flows import FlowDefinition
from gateway.flows import service

router = APIRouter(prefix="/flows", tags=["flows"])


def _catalogue(request: Request) -> dict[str, FlowDefinition]:
    catalogue: dict[str, FlowDefinition] = request.app.state.flows
    return catalogue


@router.get("", summary="The installed permit flows, with their metadata in German and English")
def list_flows(request: Request) -> dict[str, Any]:
    return {"flows": [d.metadata_json() for d in _catalogue(request).values()]}


@router.get(
    "/{flow_id}",
    summary="A flow's full public definition: form schema, documents, fee facts, summary "
    "layout and XAusländer mapping",
)
def get_flow(flow_id: str, request: Request) -> dict[str, Any]:
    return service.get(_catalogue(request), flow_id).public_json()
