"""A local fake of an XBezahldienste platform, following the published REST interface.

Served through ``httpx.MockTransport``: no socket, no network. It validates what a real
platform validates (requestId <= 36, purpose <= 27, currency EUR, 1-99 items, booking data,
items adding up to grossAmount, unique requestId) and answers with the same error codes.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from payments import signing

PATH = re.compile(r"^/api/paymenttransaction/(?P<orig>[^/]+)/(?P<endp>[^/]+)(?:/(?P<tx>[^/]+))?$")


@dataclass
class FakeXBezahldienste:
    originator_id: str = "orig-1"
    endpoint_id: str = "ep-1"
    notification_secret: str = "xb-notification-secret-for-tests-0123456789"
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = "http://127.0.0.1:9/api"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def settings(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "originator_id": self.originator_id,
            "endpoint_id": self.endpoint_id,
            "username": "ozg",
            "password": "xb-password",
            "notification_secret": self.notification_secret,
        }

    @staticmethod
    def error(status: int, code: str) -> httpx.Response:
        return httpx.Response(status, json={"errorCode": code, "errorMessage": code.lower()})

    def handle(self, request: httpx.Request) -> httpx.Response:
        match = PATH.match(request.url.path)
        if match is None or request.headers.get("authorization", "") == "":
            return self.error(404 if match is None else 401, "NOT_FOUND")
        if (match["orig"], match["endp"]) != (self.originator_id, self.endpoint_id):
            return self.error(404, "UNKNOWN_ENDPOINT")
        if request.method == "POST" and match["tx"] is None:
            return self.create(json.loads(request.content, parse_float=Decimal))
        if request.method == "GET" and match["tx"]:
            tx = self.transactions.get(match["tx"])
            if tx is None:
                return self.error(404, "NOT_FOUND")
            return httpx.Response(200, json=self.information(match["tx"]))
        return self.error(405, "METHOD_NOT_ALLOWED")

    def create(self, body: dict[str, Any]) -> httpx.Response:
        self.requests.append(body)
        request_id = body.get("requestId", "")
        if not request_id or len(request_id) > 36:
            return self.error(400, "INVALID_REQUEST_ID")
        if any(tx["requestId"] == request_id for tx in self.transactions.values()):
            return self.error(409, "PAYMENT_EXISTS")
        if body.get("currency") != "EUR" or len(body.get("purpose", "")) > 27:
            return self.error(400, "INVALID_REQUEST")
        items = body.get("items") or []
        if not 1 <= len(items) <= 99:
            return self.error(400, "INVALID_ITEMS")
        if any(not item.get("bookingData") for item in items):
            return self.error(400, "BOOKING_DATA_MISSING")
        gross = body.get("grossAmount")
        if not isinstance(gross, Decimal) or sum(Decimal(i["grossAmount"]) for i in items) != gross:
            return self.error(400, "CALCULATION_ERROR")
        tx_id = "XB" + secrets.token_hex(8)
        self.transactions[tx_id] = {"requestId": request_id, "status": "INITIAL", "body": body}
        return httpx.Response(201, json=self.information(tx_id))

    def information(self, tx_id: str) -> dict[str, Any]:
        tx = self.transactions[tx_id]
        info: dict[str, Any] = {
            "transactionId": tx_id,
            "transactionUrl": f"{self.base_url}/paymenttransaction/{tx_id}",
            "status": tx["status"],
            "transactionTimestamp": "2026-11-28T12:00:00Z",
        }
        if tx["status"] == "INITIAL":
            info["transactionRedirectUrl"] = f"https://paypage.example/{tx_id}"
        if tx["status"] == "BOOKED":
            info["paymentMethod"] = "CREDITCARD"
        return {"paymentInformation": info}

    def set_status(self, tx_id: str, status: str) -> None:
        self.transactions[tx_id]["status"] = status

    def trigger(
        self, tx_id: str, *, event_id: str | None = None, at: int | None = None
    ) -> tuple[dict[str, str], bytes]:
        body = json.dumps({"eventId": event_id or secrets.token_hex(8), "transactionId": tx_id})
        raw = body.encode()
        stamp = int(time.time()) if at is None else at
        return signing.signed_headers(self.notification_secret.encode(), stamp, raw), raw
