"""The reference flows and their example forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from commons.flows import Flow, FlowDefinition
from gateway.declarations import installed_components
from gateway.flows.service import installed_flows

EXAMPLES = Path(__file__).parent / "examples"
FLOW_IDS = (
    "change-of-conditions",
    "employment",
    "extension",
    "family",
    "settlement",
    "training",
)


def reference_flow(flow_id: str) -> Flow:
    for flow in installed_flows(installed_components()):
        if flow.name == f"flow-{flow_id}":
            return flow
    raise LookupError(flow_id)


def definition(flow_id: str) -> FlowDefinition:
    return reference_flow(flow_id).definition


def example(flow_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{flow_id}.json").read_text("utf-8"))
    return data


@pytest.fixture(params=FLOW_IDS)
def flow_id(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value
