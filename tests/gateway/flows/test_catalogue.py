"""``GET /v1/flows`` and ``GET /v1/flows/{id}``, start-up checks of malformed flows, and a
flow from another distribution that plugs in through the entry point alone."""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commons.components import Registry
from commons.db import Database
from commons.flows import Flow
from commons.settings import Settings
from gateway.app import create_app, startup_problems
from gateway.declarations import all_declarations, clear_caches, installed_components
from gateway.flows.service import fee_problems
from tests.gateway.flows.conftest import FLOW_IDS

FLOWS_DIR = Path(__file__).resolve().parents[3] / "gateway" / "flows"
PLUGIN_EXAMPLE = Path(__file__).parent / "plugin_example"


def test_the_list_has_metadata_in_german_and_english(client: TestClient) -> None:
    response = client.get("/v1/flows")  # no credentials: the catalogue is public
    assert response.status_code == 200, response.text
    flows = response.json()["flows"]
    assert [f["id"] for f in flows] == list(FLOW_IDS)
    employment = next(f for f in flows if f["id"] == "employment")
    assert employment["title"] == {
        "de": "Aufenthaltserlaubnis zur Beschäftigung als Fachkraft",
        "en": "Residence permit for employment as a skilled worker",
    }
    assert set(employment["summary"]) == set(employment["audience"]) == {"de", "en"}
    assert employment["trust_levels"] == {"start": "basis", "submit": "substantiell"}
    assert employment["fee"]["procedure"] == "issue"
    assert {"passport", "employment_contract"} <= {d["type"] for d in employment["documents"]}
    assert "schema" not in employment
    coc = next(f for f in flows if f["id"] == "change-of-conditions")
    assert coc["fee"] == {
        "procedure": "change_of_conditions",
        "express_available": False,
        "fixed": {},
        "facts": coc["fee"]["facts"],
    }


def test_one_flow_is_the_full_public_definition(client: TestClient) -> None:
    response = client.get("/v1/flows/family")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schema"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert body["summary_layout"]["format"] == "ozg-flow-summary/1"
    assert body["xauslaender"]["format"] == "ozg-flow-xauslaender/1"
    assert body["leika"].startswith("urn:de:fim:leika:leistung:")
    assert body["processing"]["legal_basis"].startswith("Art. 6(1)(e) GDPR")


def test_an_unknown_flow_is_a_404_naming_the_known_ones(client: TestClient) -> None:
    response = client.get("/v1/flows/citizenship")
    assert response.status_code == 404
    problem = response.json()
    assert problem["type"] == "urn:ozg-commons:problem:unknown-flow"
    assert (
        "change-of-conditions, employment, extension, family, settlement, training"
        in (problem["detail"])
    )


# --------------------------------------------------------------------------- start-up
def _copy_flow(tmp_path: Path, source: str = "training") -> Path:
    target = tmp_path / "flowdata"
    shutil.copytree(FLOWS_DIR / source, target, ignore=shutil.ignore_patterns("*.py*"))
    return target


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data), "utf-8")


def _broken_flow(directory: Path) -> Flow:
    kind = type("BrokenFlow", (Flow,), {"name": "flow-training", "data_directory": directory})
    flow: Flow = kind()
    return flow


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("flow.json", lambda d: d.update(format="ozg-flow/0"), "'format' must be 'ozg-flow/1'"),
        ("flow.json", lambda d: d.update(leika="99010003005000"), "'leika' must be urn:de"),
        (
            "flow.json",
            lambda d: d["trust_levels"].update(start="hoch", submit="basis"),
            "trust_levels.start is above",
        ),
        ("flow.json", lambda d: d["documents"][0].update(media_types=["pdf"]), "MIME types"),
        (
            "flow.json",
            lambda d: d["fee"]["facts"].update(shoe_size={"from": "/applicant"}),
            "unknown case facts: ['shoe_size']",
        ),
        (
            "flow.json",
            lambda d: d["fee"]["facts"]["duration_months"].update({"from": "/training/lenght"}),
            "'/training/lenght' is not a place the schema describes",
        ),
        ("flow.json", lambda d: d.pop("processing"), "'processing' must be a dict"),
        ("flow.json", lambda d: d.update(id="employment"), "flow.json names the id"),
        (
            "schema.json",
            lambda d: d["properties"]["training"]["properties"]["duration_months"].update(
                minimum="six"
            ),
            "not a valid 2020-12 schema",
        ),
        (
            "schema.json",
            lambda d: d["properties"]["training"]["properties"]["occupation"].update(title="Job"),
            "'title' must repeat x-i18n.title.en",
        ),
        (
            "schema.json",
            lambda d: d["properties"]["training"]["properties"]["occupation"]["x-i18n"].pop(
                "title"
            ),
            "'title' needs x-i18n.title",
        ),
        (
            "summary.json",
            lambda d: d["sections"][0]["fields"].append({"pointer": "/nowhere"}),
            "'/nowhere' is not a place",
        ),
        (
            "xauslaender.json",
            lambda d: d["mappings"].append({"from": "/applicant/sex", "to": "Bad Path"}),
            "'to' is names joined by '/'",
        ),
    ],
)
def test_a_malformed_flow_is_a_named_startup_problem(
    tmp_path: Path, file: str, change: Any, message: str
) -> None:
    directory = _copy_flow(tmp_path)
    _edit(directory / file, change)
    problems = _broken_flow(directory).startup_problems(None)
    assert len(problems) == 1
    assert problems[0].startswith("flow 'flow-training': ")
    assert message in problems[0]


def test_unreadable_json_and_the_gateway_refuses_to_serve(tmp_path: Path) -> None:
    directory = _copy_flow(tmp_path)
    (directory / "flow.json").write_text("{ not json", "utf-8")
    broken = _broken_flow(directory)
    registry = Registry([c for c in installed_components() if c.name != "flow-training"] + [broken])
    problems = startup_problems(Settings(data_dir=tmp_path / "var"), registry)
    assert any(p.startswith("flow 'flow-training': flow.json is not valid JSON") for p in problems)


def test_a_fee_procedure_outside_the_catalogue_is_a_startup_problem(tmp_path: Path) -> None:
    directory = _copy_flow(tmp_path)
    _edit(directory / "flow.json", lambda d: d["fee"].update(procedure="apprenticeship"))
    broken = _broken_flow(directory)
    registry = Registry([c for c in installed_components() if c.name != "flow-training"] + [broken])
    assert fee_problems(registry) == [
        "flow 'training': fee.procedure 'apprenticeship' is not in the fee catalogue "
        "(known: change_of_conditions, change_of_purpose, eat_reissue, eu_long_term, extension, "
        "family_reunification, issue, settlement_permit, training_permit)"
    ]


# --------------------------------------------------------------------------- a plug-in
@pytest.fixture
def demo_flow_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A flow in its own distribution (package ``ozg_flow_demo``, flow id ``demo``): a copy
    of the training flow's data, the class and the entry point of ``plugin_example/`` (which
    docs/flows.md shows verbatim); nothing else."""
    site = tmp_path / "site"
    package = site / "ozg_flow_demo"
    shutil.copytree(FLOWS_DIR / "training", package, ignore=shutil.ignore_patterns("*.py*"))
    _edit(package / "flow.json", lambda d: d.update(id="demo", version="0.1.0"))
    shutil.copy(PLUGIN_EXAMPLE / "ozg_flow_demo" / "__init__.py", package / "__init__.py")
    project = tomllib.loads((PLUGIN_EXAMPLE / "pyproject.toml").read_text("utf-8"))["project"]
    info = site / "ozg_flow_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    groups = project["entry-points"]
    (info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
            for group, points in groups.items()
        )
    )
    monkeypatch.syspath_prepend(str(site))
    clear_caches()
    yield
    monkeypatch.undo()
    clear_caches()


def test_adding_a_flow_needs_no_gateway_edit(
    demo_flow_installed: None, settings: Settings, database: Database
) -> None:
    assert "flow-demo" in installed_components().names()
    assert "flow.demo" in {a.id for a in all_declarations().activities}
    app = create_app(settings, database)
    with TestClient(app) as client:
        ids = [f["id"] for f in client.get("/v1/flows").json()["flows"]]
        assert "demo" in ids
        assert client.get("/v1/flows/demo").json()["version"] == "0.1.0"
