"""The component contract: a component from outside ozg-commons' packages plugs in through
the entry-point group alone, with no edit to gateway, and shows up everywhere the gateway
composes components."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from account.principal import Principal, Role, TrustLevel
from commons.components import FLOWS_GROUP, Component, Registry, RegistryError
from commons.db import Database
from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance import ActionType, ProcessingActivity, RetentionPolicy
from compliance.register import register_json
from gateway.app import create_app, startup_problems
from gateway.declarations import all_declarations, clear_caches, installed_components
from gateway.migrations import upgrade
from tests.fake_component.component import NOTES

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINT = "fakecomp = tests.fake_component.component:FakeComponent\n"


def _write_distribution(directory: Path) -> None:
    """An installed distribution, as pip would leave it, that only declares the entry point."""
    info = directory / "ozg_fake_component-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ozg-fake-component\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[ozg_commons.components]\n{ENTRY_POINT}")


@pytest.fixture
def fake_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The fake component installed in this process; yields the environment that installs it
    in a subprocess too."""
    site = tmp_path / "site"
    _write_distribution(site)
    monkeypatch.syspath_prepend(str(site))
    clear_caches()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OZG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    env["OZG_DATA_DIR"] = str(tmp_path / "var")
    yield env
    monkeypatch.undo()
    clear_caches()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def test_the_registry_finds_it_after_its_dependencies(fake_installed: dict[str, str]) -> None:
    names = installed_components().names()
    assert "fakecomp" in names
    assert names.index("account") < names.index("fakecomp")
    assert names.index("compliance") < names.index("account")


def test_its_router_declarations_exporter_and_shredder_are_used(
    fake_installed: dict[str, str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fake.sqlite3'}"
    upgrade(url)  # its migration is part of the schema
    settings = Settings(data_dir=tmp_path / "var", database_url=url)
    database = Database.from_url(url)
    app = create_app(settings, database)
    subject = "fake-subject-1"
    principal = Principal(
        subject=subject,
        roles=frozenset({Role.APPLICANT}),
        trust_level=TrustLevel.HOCH,
        issuer="http://127.0.0.1:8000/dev-idp/realms/ozg-dev",
        auth_time=datetime.now(UTC),
    )
    from account.auth import current_principal

    app.dependency_overrides[current_principal] = lambda: principal
    with database.transaction() as session:
        session.execute(sa.insert(NOTES).values(subject=subject, note="canary-fake-note"))
    try:
        with TestClient(app) as client:
            hello = client.get("/v1/fakecomp/hello")
            assert hello.status_code == 200, hello.text
            assert client.get("/v1/me").status_code == 200
            exported = client.get("/v1/me/export")
            assert exported.status_code == 200, exported.text
            assert exported.json()["domains"]["fakecomp"] == {"notes": ["canary-fake-note"]}
            erased = client.request("DELETE", "/v1/me", json={"confirm": "erase my account"})
            assert erased.status_code == 200, erased.text
            assert "fakecomp" in erased.text  # its shred report is part of the receipt
        with database.transaction() as session:
            left = session.execute(sa.select(NOTES).where(NOTES.c.subject == subject)).all()
        assert left == []
        assert "fakecomp.note.read" in app.state.audit.actions
    finally:
        database.dispose()


def test_the_cli_shows_its_group_register_and_migration(fake_installed: dict[str, str]) -> None:
    helped = _cli(fake_installed, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "fakecomp" in helped.stdout
    assert "The fake component's commands." in helped.stdout
    ping = _cli(fake_installed, "fakecomp", "ping")
    assert (ping.returncode, ping.stdout.strip()) == (0, "pong"), ping.stderr

    register = _cli(fake_installed, "compliance", "register")
    assert register.returncode == 0, register.stderr
    assert "fakecomp.notes" in register.stdout
    assert "Notes of the fake component" in register.stdout

    migrated = _cli(fake_installed, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    database = Path(fake_installed["OZG_DATA_DIR"]) / "ozg-commons.sqlite3"
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "fakecomp_note" in tables


def test_a_failing_startup_check_stops_serve_with_exit_2(fake_installed: dict[str, str]) -> None:
    refused = _cli({**fake_installed, "OZG_FAKECOMP_MODE": "refuse"}, "serve", "--port", "1")
    assert refused.returncode == 2, refused.stderr
    assert "OZG_FAKECOMP_MODE" in refused.stderr


# --------------------------------------------------------------------------- the registry
def _component(name: str, *depends_on: str) -> Component:
    kind = type(f"C_{name}", (Component,), {"name": name, "depends_on": depends_on})
    component: Component = kind()
    return component


def test_the_registry_orders_by_dependency_not_by_listing() -> None:
    registry = Registry([_component("c", "b"), _component("a"), _component("b", "a")])
    assert registry.names() == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("components", "message"),
    [
        ([_component("a"), _component("a")], "installed twice"),
        ([_component("a", "x")], "depends on 'x', which is not installed"),
        ([_component("a", "b"), _component("b", "a")], "in a circle"),
    ],
)
def test_the_registry_refuses_components_that_do_not_fit(
    components: list[Component], message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        Registry(components)


# --------------------------------------------------------------------------- flows declare
def _flow_declarations() -> ModuleType:
    module = ModuleType("ozg_flow_demo.declarations")
    module.ACTIONS = (  # type: ignore[attr-defined]
        ActionType(
            "flow.demo.draft.read",
            "application draft",
            "Your draft was read.",
            "Ihr Entwurf wurde gelesen.",
        ),
    )
    module.ACTIVITIES = (  # type: ignore[attr-defined]
        ProcessingActivity(
            id="flow.demo",
            name="Residence permit for employment (demo flow)",
            purpose="Take and submit the application",
            data_categories=("application data",),
            data_subjects=("applicants",),
            recipients=("immigration authority",),
            legal_basis="Art. 6(1)(e) GDPR with § 81 AufenthG",
            retention="drafts 30 days; submissions until decision plus the legal period",
        ),
    )
    module.RETENTION = (  # type: ignore[attr-defined]
        RetentionPolicy("flow.demo.draft", timedelta(days=30), "Art. 5(1)(e) GDPR", "Drafts"),
    )
    module.RETENTION_EXECUTORS = {"flow.demo.draft": lambda _s, _c: ["draft-1"]}  # type: ignore[attr-defined]
    return module


def _flow(module: ModuleType) -> Component:
    class DemoFlow(Component):
        name = "flow-demo"
        depends_on = ("account",)

        def declarations(self) -> ModuleType:
            return module

    return DemoFlow()


@pytest.fixture
def flows(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SimpleNamespace]]:
    """Entry points in the ``ozg_commons.flows`` group, as the test adds them."""
    found: list[SimpleNamespace] = []

    def fake(group: str) -> Any:
        return found if group == FLOWS_GROUP else entry_points(group=group)

    monkeypatch.setattr("commons.components.entry_points", fake)
    clear_caches()
    yield found
    monkeypatch.undo()
    clear_caches()


def _entry_point(name: str, loaded: object) -> SimpleNamespace:
    return SimpleNamespace(name=name, value=f"{name}:Flow", load=lambda: loaded)


def test_a_flow_adds_its_activities_retention_and_executor(
    flows: list[SimpleNamespace],
) -> None:
    flows.append(_entry_point("demo", _flow(_flow_declarations())))
    decls = all_declarations()
    register = register_json(decls)
    assert "flow.demo" in [a["id"] for a in register["processing_activities"]]
    assert {"record_type": "flow.demo.draft", "keep_for_days": 30}.items() <= next(
        r for r in register["retention_policies"] if r["record_type"] == "flow.demo.draft"
    ).items()
    assert decls.executors["flow.demo.draft"](Session(), None) == ["draft-1"]  # type: ignore[arg-type]
    assert "flow.demo.draft.read" in [a.name for a in decls.actions]


def test_a_flow_cannot_redeclare_a_domain_record_type(
    flows: list[SimpleNamespace], tmp_path: Path
) -> None:
    module = _flow_declarations()
    module.RETENTION = (  # type: ignore[attr-defined]
        RetentionPolicy("compliance.access_entry", timedelta(days=1), "none", "hijack"),
    )
    flows.append(_entry_point("demo", _flow(module)))
    assert startup_problems(Settings(data_dir=tmp_path)) == [
        "the installed components conflict: "
        "retention policy declared twice: compliance.access_entry"
    ]
    with pytest.raises(
        ValueError, match=r"retention policy declared twice: compliance\.access_entry"
    ):
        all_declarations()


def test_an_entry_point_must_name_a_component(flows: list[SimpleNamespace]) -> None:
    flows.append(_entry_point("broken", object()))
    with pytest.raises(ConfigurationError, match="which is not an ozg-commons component"):
        installed_components()
