"""Permit flows declare their processing and retention through an entry point."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from sqlalchemy.orm import Session

from commons.errors import ConfigurationError
from commons.settings import Settings
from compliance import ActionType, ProcessingActivity, RetentionPolicy
from compliance.retention import register_json
from gateway import declarations
from gateway.app import startup_problems


def _flow_module() -> ModuleType:
    module = ModuleType("ozg_flow_demo.processing")
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


def _entry_point(name: str, loaded: object) -> SimpleNamespace:
    return SimpleNamespace(name=name, value=f"{name}.processing", load=lambda: loaded)


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[SimpleNamespace]]:
    found: list[SimpleNamespace] = []
    monkeypatch.setattr(
        declarations,
        "entry_points",
        lambda group: found if group == declarations.ENTRY_POINT_GROUP else [],
    )
    declarations.all_declarations.cache_clear()
    yield found
    declarations.all_declarations.cache_clear()


def test_a_flow_adds_its_activities_retention_and_executor(
    installed: list[SimpleNamespace],
) -> None:
    installed.append(_entry_point("demo", _flow_module()))
    decls = declarations.all_declarations()
    register = register_json(decls)
    assert "flow.demo" in [a["id"] for a in register["processing_activities"]]
    assert {"record_type": "flow.demo.draft", "keep_for_days": 30}.items() <= next(
        r for r in register["retention_policies"] if r["record_type"] == "flow.demo.draft"
    ).items()
    assert decls.executors["flow.demo.draft"](Session(), None) == ["draft-1"]  # type: ignore[arg-type]
    assert "flow.demo.draft.read" in [a.name for a in decls.actions]


def test_a_flow_cannot_redeclare_a_domain_record_type(
    installed: list[SimpleNamespace], tmp_path: Path
) -> None:
    module = _flow_module()
    module.RETENTION = (  # type: ignore[attr-defined]
        RetentionPolicy("compliance.access_entry", timedelta(days=1), "none", "hijack"),
    )
    installed.append(_entry_point("demo", module))
    assert startup_problems(Settings(data_dir=tmp_path)) == [
        "the installed declarations conflict: "
        "retention policy declared twice: compliance.access_entry"
    ]
    with pytest.raises(
        ValueError, match=r"retention policy declared twice: compliance\.access_entry"
    ):
        declarations.all_declarations()


def test_an_entry_point_must_name_a_module(installed: list[SimpleNamespace]) -> None:
    installed.append(_entry_point("broken", object()))
    with pytest.raises(ConfigurationError, match="must name a module"):
        declarations.all_declarations()
