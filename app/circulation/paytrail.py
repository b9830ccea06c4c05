"""Online payment providers: the interface, and Paytrail's signed redirect-and-callback API.

Paytrail (https://docs.paytrail.com): every request carries ``checkout-*`` headers and a
``signature`` header, HMAC-SHA256 over the ``checkout-*`` headers sorted by name, one
``name:value`` per line, then the body. The merchant creates a payment with ``POST /payments``
and sends the patron's browser to the returned ``href``. When the patron has paid (or given up)
Paytrail redirects the browser to our return URL *and* calls our callback URL, both with the
result as ``checkout-*`` query parameters signed the same way over an empty body. Either may
arrive first, twice, or not at all; the service books a payment once, whichever comes.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from app.circulation.money import Money

# (url, headers, body) → (status, headers, body)
Transport = Callable[[str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]
ALGORITHMS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}


class ProviderError(Exception):
    """The provider could not be reached or answered something we cannot trust."""


@dataclass(frozen=True)
class ProviderPayment:
    transaction_id: str
    href: str  # where to send the patron's browser


@dataclass(frozen=True)
class ProviderResult:
    """A verified return or callback."""

    stamp: str
    transaction_id: str
    status: str  # ok | pending | delayed | fail
    amount_minor: int


class PaymentProvider(Protocol):
    name: str

    def create_payment(self, *, stamp: str, reference: str, amount: Money, language: str, description: str,
                       return_url: str, callback_url: str, now: datetime) -> ProviderPayment: ...

    def verify_return(self, params: Mapping[str, str]) -> ProviderResult | None:
        """The result in signed return/callback parameters; None when the signature is wrong."""
        ...


def signature(secret: str, params: Mapping[str, str], body: str, algorithm: str = "sha256") -> str:
    """Paytrail's HMAC: sorted ``checkout-*`` entries as ``name:value`` lines, then the body."""
    lines = [f"{name}:{params[name]}" for name in sorted(params) if name.startswith("checkout-")]
    payload = "\n".join([*lines, body])
    return hmac.new(secret.encode(), payload.encode(), ALGORITHMS[algorithm]).hexdigest()


def urllib_transport(timeout: float = 15.0) -> Transport:
    def send(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - fixed https URL
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise ProviderError(f"Paytrail unreachable: {error}") from error

    return send


class PaytrailProvider:
    name = "paytrail"

    def __init__(self, *, account: str, secret: str, api_url: str = "https://services.paytrail.com",
                 transport: Transport | None = None, platform_name: str = "kuulo") -> None:
        self.account, self.secret, self.api_url = account, secret, api_url.rstrip("/")
        self.transport = transport or urllib_transport()
        self.platform_name = platform_name

    def create_payment(self, *, stamp: str, reference: str, amount: Money, language: str, description: str,
                       return_url: str, callback_url: str, now: datetime) -> ProviderPayment:
        body = json.dumps({
            "stamp": stamp, "reference": reference, "amount": amount.minor, "currency": amount.currency,
            "language": language.upper() if language.upper() in ("FI", "SV", "EN") else "FI",
            "items": [{"unitPrice": amount.minor, "units": 1, "vatPercentage": 0, "productCode": "library-fees",
                       "description": description[:1000]}],
            "customer": {"email": ""},
            "redirectUrls": {"success": return_url, "cancel": return_url},
            "callbackUrls": {"success": callback_url, "cancel": callback_url},
        }, separators=(",", ":"), ensure_ascii=False)
        headers = {"checkout-account": self.account, "checkout-algorithm": "sha256", "checkout-method": "POST",
                   "checkout-nonce": uuid.uuid4().hex,
                   "checkout-timestamp": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        headers["signature"] = signature(self.secret, headers, body)
        headers["content-type"] = "application/json; charset=utf-8"
        headers["platform-name"] = self.platform_name
        status, response_headers, response_body = self.transport(f"{self.api_url}/payments", headers,
                                                                 body.encode())
        text = response_body.decode("utf-8", "replace")
        algorithm = response_headers.get("checkout-algorithm", "sha256")
        expected = signature(self.secret, response_headers, text, algorithm) if algorithm in ALGORITHMS else ""
        if not hmac.compare_digest(expected, response_headers.get("signature", "")):
            raise ProviderError("Paytrail response signature does not match")
        if status != 201:
            raise ProviderError(f"Paytrail refused the payment: HTTP {status}")
        data = json.loads(text)
        return ProviderPayment(transaction_id=str(data["transactionId"]), href=str(data["href"]))

    def verify_return(self, params: Mapping[str, str]) -> ProviderResult | None:
        algorithm = params.get("checkout-algorithm", "")
        if algorithm not in ALGORITHMS or params.get("checkout-account") != self.account:
            return None
        expected = signature(self.secret, params, "", algorithm)
        if not hmac.compare_digest(expected, params.get("signature", "")):
            return None
        try:
            return ProviderResult(stamp=params["checkout-stamp"], transaction_id=params["checkout-transaction-id"],
                                  status=params["checkout-status"], amount_minor=int(params["checkout-amount"]))
        except (KeyError, ValueError):
            return None


def provider_from_config(config: Mapping[str, object], transport: Transport | None = None) -> PaytrailProvider:
    """The configured provider. Defaults are Paytrail's public test merchant (375917)."""
    return PaytrailProvider(account=str(config.get("PAYTRAIL_ACCOUNT", "375917")),
                            secret=str(config.get("PAYTRAIL_SECRET", "SAIPPUAKAUPPIAS")),
                            api_url=str(config.get("PAYTRAIL_API_URL", "https://services.paytrail.com")),
                            transport=transport)
