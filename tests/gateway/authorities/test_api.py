"""The public endpoints: authorities, routes (FIT-Connect Routing API shape), routing keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from account import Principal
from gateway.authorities import InvalidDestinationSignature, verify_destination_signature
from gateway.authorities.demo import demo_destination_id
from tests import factories
from tests.gateway.authorities.helpers import LEIKA

ActAs = Callable[[Principal | None], None]


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    app.state.authorities.flows = {"employment": LEIKA}  # a fake flow until flows land
    return app


def test_the_demo_authorities_are_listed_without_secrets(client: TestClient) -> None:
    r = client.get("/v1/authorities")
    assert r.status_code == 200
    listed = r.json()["authorities"]
    assert [a["id"] for a in listed] == ["ee", "p", "tf"]
    tf = listed[2]
    assert tf["name"] == {"de": "Landkreis Teltow-Fläming", "en": "Teltow-Fläming District"}
    assert tf["destinationId"] == demo_destination_id("tf")
    assert tf["ars"] == ["120720000000"]
    assert "employment" in tf["flows"]
    assert "change-of-conditions" in tf["flows"]
    assert tf["portal"]["demo"] is True
    assert tf["portal"]["address"]["city"] == "Luckenwalde"
    assert "callback_secret" not in r.text
    assert '"d"' not in r.text
    assert client.get("/v1/authorities/p").json()["ags"] == ["12054000"]


def test_an_unknown_authority_is_a_404_naming_the_known_ones(client: TestClient) -> None:
    r = client.get("/v1/authorities/tx")
    assert r.status_code == 404
    body = r.json()
    assert body["detail"] == "there is no authority 'tx'; known authorities: ee, p, tf"
    assert body["known_authorities"] == ["ee", "p", "tf"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ars=120720000000", "leikaKey is required"),
        ("leikaKey=12345&ars=12072", "leikaKey is required"),
        (f"leikaKey={LEIKA}", "exactly one of ars, ags and areaId"),
        (f"leikaKey={LEIKA}&ars=12072&ags=12072", "(got ars, ags)"),
        (f"leikaKey={LEIKA}&ars=1207", "ars must have 2, 3, 5, 9 or 12 digits"),
        (f"leikaKey={LEIKA}&ags=120720", "ags must have 2, 3, 5 or 8 digits"),
        (f"leikaKey={LEIKA}&areaId=4711", "areaId is not supported"),
        (f"leikaKey={LEIKA}&ars=12072&limit=501", "limit must be a whole number between 1"),
        (f"leikaKey={LEIKA}&ars=12072&offset=-1", "offset must be a whole number at least 0"),
    ],
)
def test_route_queries_are_checked_like_the_routing_api(
    client: TestClient, query: str, message: str
) -> None:
    r = client.get(f"/v1/routes?{query}")
    assert r.status_code == 400, r.text
    assert message in r.json()["detail"]


def test_routes_find_the_district_of_a_municipality_and_are_signed(client: TestClient) -> None:
    r = client.get(f"/v1/routes?leikaKey={LEIKA}&ars=120720616616")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["count"], body["offset"], body["totalCount"]) == (1, 0, 1)
    route = body["routes"][0]
    assert route["destinationId"] == demo_destination_id("tf")
    assert route["destinationName"] == "Landkreis Teltow-Fläming"
    assert route["address"]["postalCode"] == "14943"
    for member in ("privacyPolicyUrl", "accessibilityUrl", "imprintUrl"):
        assert route[member].startswith("https://")
    assert set(route["furtherInformation"]) == {"de", "en"}
    assert set(route["requiredDocuments"]) == {"de", "en"}
    assert route["processingDuration"] == {"min": 4, "max": 12, "unit": "weeks"}
    keys = client.get("/v1/routes/keys").json()["keys"]
    assert keys[0]["alg"] == "PS512"
    assert "d" not in keys[0]
    claims = verify_destination_signature(
        route["destinationSignature"],
        keys,
        destination_id=route["destinationId"],
        leika=LEIKA,
        ars="120720616616",
        submission_host="127.0.0.1:8000",
    )
    assert claims["services"][0]["leistungIDs"] == [f"urn:de:fim:leika:leistung:{LEIKA}"]
    assert claims["services"][0]["gebietIDs"][0].endswith(":rs:120720000000")
    assert {"iss", "iat", "jti"} <= set(claims)
    for wrong in (
        {"destination_id": demo_destination_id("ee")},
        {"ars": "120620000000"},
        {"leika": "99010003001007"},
        {"submission_host": "evil.example"},
    ):
        args = {"destination_id": route["destinationId"], "leika": LEIKA, "ars": None, **wrong}
        with pytest.raises(InvalidDestinationSignature):
            verify_destination_signature(route["destinationSignature"], keys, **args)
    head, claims_b64, sig = route["destinationSignature"].split(".")
    tampered = f"{head}.{claims_b64[:-2]}AA.{sig}"
    with pytest.raises(InvalidDestinationSignature):
        verify_destination_signature(
            tampered, keys, destination_id=route["destinationId"], leika=LEIKA
        )


def test_routes_by_ags_and_for_the_city(client: TestClient) -> None:
    by_ags = client.get(f"/v1/routes?leikaKey={LEIKA}&ags=12054000").json()
    assert [r["customParameters"]["authorityId"] for r in by_ags["routes"]] == ["p"]
    by_ars = client.get(f"/v1/routes?leikaKey={LEIKA}&ars=120540000000").json()
    assert by_ars["routes"][0]["destinationShortName"] == "Migrationsamt Potsdam"
    assert client.get(f"/v1/routes?leikaKey={LEIKA}&ars=120620000000").json()["totalCount"] == 1
    nobody = client.get(f"/v1/routes?leikaKey={LEIKA}&ars=110000000000").json()
    assert nobody == {"count": 0, "offset": 0, "totalCount": 0, "routes": []}
    unknown_service = client.get("/v1/routes?leikaKey=99010003001007&ars=12072").json()
    assert unknown_service["totalCount"] == 0
    paged = client.get(f"/v1/routes?leikaKey={LEIKA}&ars=12072&offset=1").json()
    assert (paged["count"], paged["totalCount"]) == (0, 1)


def test_the_demo_encryption_keys_are_the_vault_sharing_keys(
    client: TestClient, act_as: ActAs
) -> None:
    act_as(factories.applicant())
    for authority in ("tf", "ee", "p"):
        served = client.get(f"/v1/vault/authorities/{authority}/key")
        assert served.status_code == 200, served.text
        listed = client.get(f"/v1/authorities/{authority}").json()
        assert served.json()["kid"] == listed["encryptionKid"]
