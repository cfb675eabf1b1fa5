"""YooKassa (ЮKassa): the hosted payment page, СБП by QR, saved methods, 54-FZ receipts, through the official SDK.

The SDK builds and checks the requests (``PaymentRequest``) and reads the answers (``PaymentResponse``); its API
client is given this provider's own settings instead of the SDK's process-wide ``Configuration`` (two apps in one
process, the tests' fake API and the real one, never share credentials), and sends every request with a timeout
and without the SDK's own retries, so one call to the API takes at most ``YOOKASSA_TIMEOUT`` seconds in all.
Whatever goes wrong (no answer, 5xx, 401/403, 429 longer than a short wait) is ``ProviderUnavailable``: the portal
asks again later with the same idempotence key, which YooKassa answers with the same payment.

README "Payments: YooKassa" lists the settings.
"""
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from yookassa import Payment
from yookassa.client import ApiClient
from yookassa.domain.common import RequestObject, UserAgent
from yookassa.domain.response import PaymentResponse

from portal.payment_gateway import (
    CANCELED,
    PENDING,
    SBP,
    SUCCEEDED,
    Confirmation,
    PaymentState,
    ProviderUnavailable,
    Receipt,
)

log = logging.getLogger(__name__)

API_URL = "https://api.yookassa.ru/v3"
# The payment page's origin (the top-up form is redirected there: the CSP's form-action must allow it).
PAGE_ORIGIN = "https://yoomoney.ru"
# Where YooKassa's notifications come from (its documentation, "Входящие уведомления": IP addresses).
NETWORKS = ("185.71.76.0/27", "185.71.77.0/27", "77.75.153.0/25", "77.75.156.11/32", "77.75.156.35/32",
            "77.75.154.128/25", "2a02:5180::/32")
DESCRIPTION_MAX = 128  # the API's limit on a payment's description
REFERENCE_MAX = 80  # a payment id is 36 characters; longer is not one of theirs


@dataclass(frozen=True)
class Settings:
    shop_id: str
    secret_key: str
    api_url: str = API_URL
    timeout: float = 8.0  # seconds one call may take in all, a short wait on 429 included
    retry_wait_max: float = 2.0  # a 429 (or 202) asking for a longer wait is not waited for: ProviderUnavailable
    receipts: bool = True  # pass the receipt's data (54-FZ) with every payment
    vat_code: int = 1  # 1: без НДС
    tax_system: int | None = None  # tax_system_code, 1..6; None: the shop's only one
    receipt_item: str = "Оплата услуг связи"  # the item when the caller names none (saved-method charges)

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(shop_id=str(config["YOOKASSA_SHOP_ID"]), secret_key=config["YOOKASSA_SECRET_KEY"],
                   api_url=config["YOOKASSA_API_URL"], timeout=float(config["YOOKASSA_TIMEOUT"]),
                   retry_wait_max=float(config["YOOKASSA_RETRY_WAIT_MAX"]), receipts=config["PAYMENT_RECEIPTS"],
                   vat_code=config["PAYMENT_VAT_CODE"], tax_system=config["PAYMENT_TAX_SYSTEM"],
                   receipt_item=config["PAYMENT_RECEIPT_ITEM"])


class Refused(Exception):
    """The API refused the request itself (400, 404): asking again with the same key gets the same answer."""

    def __init__(self, status: int, code: str | None, description: str | None):
        super().__init__(f"{status} {code}: {description}")
        self.status, self.code = status, code


def retry_after(response: requests.Response) -> float | None:
    """Seconds to wait, from a Retry-After header (seconds or an HTTP date) or the 202 body's retry_after (ms)."""
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(header) - datetime.now(UTC)).total_seconds())
            except (TypeError, ValueError):
                return None
    try:
        waited = response.json().get("retry_after")
        return max(0.0, float(waited) / 1000) if waited is not None else None
    except (ValueError, AttributeError, TypeError):
        return None


def _error_of(response: requests.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
        parameter = f" (parameter {body['parameter']})" if body.get("parameter") else ""
        return str(body.get("code")), f"{body.get('description') or ''}{parameter}"
    except (ValueError, AttributeError):
        return None, None


class Client(ApiClient):
    """The SDK's API client over this provider's settings (not the process-wide ``Configuration``), with a timeout
    on every request, at most one short wait on 429, and every failure as ``ProviderUnavailable`` or ``Refused``.

    ``ApiClient.__init__`` is not called: it reads the SDK's global configuration. The SDK's headers (Basic auth,
    its user agent) and request checks are kept."""

    def __init__(self, settings: Settings, http: requests.Session | None = None):
        self.settings = settings
        self.endpoint = settings.api_url.rstrip("/")
        self.shop_id, self.shop_password, self.auth_token = settings.shop_id, settings.secret_key, None
        self.timeout, self.max_attempts = settings.timeout, 1
        self.user_agent = UserAgent()
        self.http = http or requests.Session()

    def request(self, method="", path="", query_params=None, headers=None, body=None):
        if isinstance(body, RequestObject):
            body.validate()
            body = dict(body)
        request_headers = self.prepare_request_headers(headers)
        deadline = time.monotonic() + self.settings.timeout
        waited = False
        while True:
            response = self._send(method, path, query_params, request_headers, body, deadline)
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    raise ProviderUnavailable(f"YooKassa {method} {path}: not JSON") from None
            wait = retry_after(response) if response.status_code in (202, 429) else None
            if wait is not None and not waited and wait <= self.settings.retry_wait_max \
                    and time.monotonic() + wait < deadline - 0.5:
                waited = True
                time.sleep(wait)  # the same request again, the same Idempotence-Key
                continue
            raise self._failure(method, path, response, wait)

    def _send(self, method, path, query_params, headers, body, deadline) -> requests.Response:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProviderUnavailable(f"YooKassa {method} {path}: out of time")
        try:
            return self.http.request(method, self.endpoint + path, params=query_params, headers=headers, json=body,
                                     timeout=(min(left, 3.05), left), allow_redirects=False)
        except requests.RequestException as err:
            log.warning("YooKassa %s %s did not answer: %s", method, path, err)
            raise ProviderUnavailable(f"YooKassa {method} {path}: {type(err).__name__}") from None

    @staticmethod
    def _failure(method, path, response: requests.Response, wait: float | None) -> Exception:
        status = response.status_code
        code, description = _error_of(response)
        if status in (401, 403):
            log.error("YooKassa refused the shop's credentials or rights (%s %s: %s %s %s). Check YOOKASSA_SHOP_ID "
                      "and YOOKASSA_SECRET_KEY (a test shop's key starts with test_, a live one's with live_), and "
                      "that the shop may do this (saving methods, СБП) in YooKassa's account.",
                      method, path, status, code, description)
            return ProviderUnavailable(f"YooKassa: {status} (credentials)")
        if status in (400, 404):
            log.error("YooKassa refused %s %s: %s %s %s", method, path, status, code, description)
            return Refused(status, code, description)
        if status in (202, 429):
            log.warning("YooKassa %s %s: %s, retry after %s s", method, path, status, wait)
            return ProviderUnavailable(f"YooKassa: {status}", retry_after=wait)
        log.warning("YooKassa %s %s answered %s %s", method, path, status, code)
        return ProviderUnavailable(f"YooKassa: {status}")


def _payments(client: Client) -> type[Payment]:
    """The SDK's ``Payment`` calls over this client (its class methods build ``cls()``, which would read the
    global configuration)."""

    class ShopPayment(Payment):
        def __init__(self):
            self.client = client

    return ShopPayment


def rubles(kopecks: int) -> dict:
    return {"value": f"{kopecks // 100}.{kopecks % 100:02d}", "currency": "RUB"}


def phone_digits(phone: str | None) -> str | None:
    """The receipt's phone as the API wants it: digits only, 79XXXXXXXXX."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return digits or None


def _naive_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def state_of(payment: PaymentResponse) -> PaymentState:
    """The SDK's payment as the portal's PaymentState."""
    status = {"succeeded": SUCCEEDED, "canceled": CANCELED}.get(payment.status, PENDING)
    method = payment.payment_method
    kind = getattr(method, "type", None)
    card = getattr(method, "card", None) if kind == "bank_card" else None
    last4 = getattr(card, "last4", None) if card is not None else None
    if last4:
        title = f"card *{last4}"
    elif kind == "sbp":
        title = "SBP"
    else:
        title = getattr(method, "title", None) or kind
    token = method.id if method is not None and status == SUCCEEDED and getattr(method, "saved", False) else None
    confirmation = None
    if status == PENDING and payment.confirmation is not None:
        shown = payment.confirmation
        if shown.type == "qr":
            payload = getattr(shown, "confirmation_data", None)
            confirmation = Confirmation("qr", url=payload, qr_payload=payload)
        elif getattr(shown, "confirmation_url", None):
            confirmation = Confirmation("redirect", url=shown.confirmation_url)
    details = payment.cancellation_details
    return PaymentState(reference=payment.id, status=status,
                        cancel_reason=getattr(details, "reason", None) if status == CANCELED else None,
                        method_title=title, card_last4=last4, saved_token=token, confirmation=confirmation,
                        expires_at=_naive_utc(payment.expires_at) if status == PENDING else None)


class YooKassaProvider:
    name = "yookassa"

    def __init__(self, settings: Settings, http: requests.Session | None = None):
        self.settings = settings
        self.api = _payments(Client(settings, http))

    @classmethod
    def from_config(cls, config) -> "YooKassaProvider":
        return cls(Settings.from_config(config))

    def _receipt(self, receipt: Receipt | None, amount: int) -> dict | None:
        if not self.settings.receipts or receipt is None:
            return None
        phone = phone_digits(receipt.phone)
        if phone is None:
            log.warning("A payment without the customer's phone: sent with no receipt data")
            return None
        data = {"customer": {"phone": phone},
                "items": [{"description": (receipt.item or self.settings.receipt_item)[:DESCRIPTION_MAX],
                           "quantity": "1.00", "amount": rubles(amount), "vat_code": self.settings.vat_code,
                           "payment_subject": "service", "payment_mode": "full_payment"}]}
        if self.settings.tax_system:
            data["tax_system_code"] = self.settings.tax_system
        return data

    def _create(self, params: dict, key: str) -> PaymentResponse:
        try:
            return self.api.create({k: v for k, v in params.items() if v is not None}, key)
        except (ValueError, TypeError) as err:  # the SDK's own checks of the request, or an answer it cannot read
            log.error("YooKassa payment not created: %s", err)
            raise ProviderUnavailable(f"YooKassa: {err}") from None

    def create_payment(self, *, amount: int, description: str, idempotence_key: str, return_url: str,
                       receipt: Receipt | None, save_method: bool, method: str = "card") -> PaymentState:
        sbp = method == SBP
        params = {
            "amount": rubles(amount), "capture": True, "description": description[:DESCRIPTION_MAX],
            "confirmation": {"type": "qr" if sbp else "redirect", "return_url": return_url},
            "payment_method_data": {"type": "sbp"} if sbp else None,
            "save_payment_method": True if save_method and not sbp else None,
            "receipt": self._receipt(receipt, amount),
        }
        try:
            return state_of(self._create(params, idempotence_key))
        except Refused as err:  # our request is wrong (the receipt, the settings): the customer is told to retry
            raise ProviderUnavailable(f"YooKassa refused the payment: {err}") from None

    def status(self, reference: str) -> PaymentState:
        try:
            return state_of(self.api.find_one(reference[:REFERENCE_MAX]))
        except Refused as err:
            if err.status == 404:
                return PaymentState(reference, CANCELED, cancel_reason="not_found")
            raise ProviderUnavailable(str(err)) from None
        except (ValueError, TypeError) as err:
            raise ProviderUnavailable(f"YooKassa: {err}") from None

    def charge_saved(self, *, amount: int, token: str, description: str, idempotence_key: str,
                     receipt: Receipt | None = None) -> PaymentState:
        params = {"amount": rubles(amount), "capture": True, "payment_method_id": token,
                  "description": description[:DESCRIPTION_MAX], "receipt": self._receipt(receipt, amount)}
        try:
            return state_of(self._create(params, idempotence_key))
        except Refused as err:  # e.g. the method is gone or not saved: a decline, the same every time it is asked
            return PaymentState("", CANCELED, cancel_reason=err.code or "refused")

    def notified_reference(self, body: bytes) -> str | None:
        """The payment a notification names; a notification of another object (a refund) names none."""
        try:
            notification = json.loads(body)
            event, reference = notification.get("event", "payment."), notification["object"]["id"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        if not isinstance(event, str) or not event.startswith("payment."):
            return None
        return reference if isinstance(reference, str) and 0 < len(reference) <= REFERENCE_MAX else None

