from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from account.auth import require_roles, require_scope, require_trust_level
from account.principal import Principal, Role, TrustLevel
from account.scopes import Scope
from tests import factories


@pytest.fixture
def guarded(app: FastAPI) -> Iterator[TestClient]:
    router = APIRouter()

    @router.get("/guarded/dpo", dependencies=[Depends(require_roles(Role.DPO))])
    def dpo_only() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/guarded/scope", dependencies=[Depends(require_scope(Scope.FEES_READ))])
    def scoped() -> dict[str, bool]:
        return {"ok": True}

    @router.get("/guarded/hoch", dependencies=[Depends(require_trust_level(TrustLevel.HOCH))])
    def hoch_only() -> dict[str, bool]:
        return {"ok": True}

    app.include_router(router)
    with TestClient(app) as client:
        yield client


def test_no_authenticator_means_401(guarded: TestClient) -> None:
    response = guarded.get("/guarded/dpo")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_role_guard(guarded: TestClient, act_as: Callable[[Principal | None], None]) -> None:
    act_as(factories.applicant())
    assert guarded.get("/guarded/dpo").status_code == 403
    act_as(factories.dpo())
    assert guarded.get("/guarded/dpo").status_code == 200


def test_step_up_follows_rfc_9470(
    guarded: TestClient, act_as: Callable[[Principal | None], None]
) -> None:
    act_as(factories.applicant(trust_level=TrustLevel.BASIS))
    response = guarded.get("/guarded/hoch")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_user_authentication", acr_values="hoch"'
    )
    assert response.json()["required_trust_level"] == "hoch"
    act_as(factories.applicant(trust_level=TrustLevel.HOCH))
    assert guarded.get("/guarded/hoch").status_code == 200


def test_scope_guard_applies_to_flow_clients_only(
    guarded: TestClient, act_as: Callable[[Principal | None], None]
) -> None:
    """Also with a principal put in through the override: the guards run after it."""
    act_as(factories.flow_client(scopes=frozenset({Scope.FEES_WRITE.value})))
    response = guarded.get("/guarded/scope")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="fees:read"'
    )
    act_as(factories.flow_client(scopes=frozenset({Scope.FEES_READ.value})))
    assert guarded.get("/guarded/scope").status_code == 200
    act_as(factories.applicant())  # people's tokens: their scopes are not checked
    assert guarded.get("/guarded/scope").status_code == 200
