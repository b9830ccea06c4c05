"""A stand-in for Paytrail's API that checks our signatures and signs its answers, as the real one."""
from __future__ import annotations

import json
import uuid
from typing import Any

from app.circulation.paytrail import PaytrailProvider, signature

ACCOUNT, SECRET = "375917", "SAIPPUAKAUPPIAS"  # Paytrail's public test merchant


class FakePaytrail:
    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}  # transaction id → request body

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        text = body.decode()
        assert url.endswith("/payments")
        assert headers["signature"] == signature(SECRET, headers, text), "request signature"
        data = json.loads(text)
        transaction = str(uuid.uuid4())
        self.payments[transaction] = data
        answer = json.dumps({"transactionId": transaction, "href": f"https://pay.example/pay/{transaction}"})
        response = {"checkout-account": ACCOUNT, "checkout-algorithm": "sha256", "checkout-nonce": "n1",
                    "checkout-timestamp": "2026-11-23T10:00:00.000Z", "checkout-transaction-id": transaction}
        response["signature"] = signature(SECRET, response, answer)
        return 201, response, answer.encode()

    def result(self, transaction: str, status: str = "ok", amount: int | None = None,
               secret: str = SECRET) -> dict[str, str]:
        """The signed query parameters of the return redirect and the callback."""
        data = self.payments[transaction]
        params = {"checkout-account": ACCOUNT, "checkout-algorithm": "sha256",
                  "checkout-amount": str(data["amount"] if amount is None else amount),
                  "checkout-stamp": data["stamp"], "checkout-reference": data["reference"],
                  "checkout-transaction-id": transaction, "checkout-status": status, "checkout-provider": "nordea"}
        params["signature"] = signature(secret, params, "")
        return params


def provider(fake: FakePaytrail) -> PaytrailProvider:
    return PaytrailProvider(account=ACCOUNT, secret=SECRET, transport=fake)
