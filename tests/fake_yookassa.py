"""A small fake of YooKassa's API (v3 payments) on loopback, for the tests: never the real service.

It answers as the real one does for what the portal uses: ``POST /v3/payments`` (Basic auth, the
Idempotence-Key header: the same key answers the same payment; the receipt checked as a shop with 54-FZ receipts
has it checked: the customer's phone or e-mail and items whose amounts add up to the payment's), and
``GET /v3/payments/<id>``. A test flips its switches: the next answers 401 / 429 with Retry-After / 500, a slow
answer, an answer lost after the payment was made (the client asks again with its key), and decides payments as
the customer on YooKassa's page would (``succeed``, ``cancel``).
"""
import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHOP_ID = "540011"
SECRET_KEY = "test_fake_secret_key"
ALLOWED_SENDER = "185.71.76.10"  # inside YooKassa's published notification networks


@dataclass
class Failure:
    status: int
    times: int = 1
    retry_after: str | None = None


@dataclass
class Fake:
    require_receipt: bool = True
    slow: float = 0.0  # seconds every answer waits
    lose_answers: int = 0  # the next N payments are made, then the connection is dropped before the answer
    saved_pending: bool = False  # a saved method's charge answers pending first (the bank decides later)
    failures: list[Failure] = field(default_factory=list)
    payments: dict[str, dict] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    methods: dict[str, dict] = field(default_factory=dict)  # saved methods: id -> {"last4", "declines"}
    requests: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ---- the switches -----------------------------------------------------------------------------------------

    def fail(self, status: int, *, times: int = 1, retry_after: str | None = None) -> None:
        """The next ``times`` requests are answered ``status`` (a 429 with ``Retry-After: retry_after``)."""
        self.failures.append(Failure(status, times, retry_after))

    def succeed(self, payment_id: str, *, last4: str = "4444", method: str = "bank_card") -> dict:
        """The customer paid on YooKassa's page (a card, or СБП in the bank's app)."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment.get("payment_method", {}).get("saved"):  # a saved method's charge: the same method
                payment.update(status="succeeded", paid=True)
                return payment
            saved = payment.pop("_save", False) and method == "bank_card"
            payment_method = {"type": method, "id": payment_id, "saved": saved,
                              "title": f"Bank card *{last4}" if method == "bank_card" else "СБП"}
            if method == "bank_card":
                payment_method["card"] = {"first6": "555555", "last4": last4, "expiry_month": "07",
                                          "expiry_year": "2030", "card_type": "MasterCard"}
            if saved:
                self.methods[payment_id] = {"last4": last4, "declines": False}
            payment.update(status="succeeded", paid=True, payment_method=payment_method,
                           captured_at="2026-12-07T07:01:00.000Z")
            payment.pop("confirmation", None)
            return payment

    def cancel(self, payment_id: str, reason: str = "insufficient_funds") -> dict:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(status="canceled", cancellation_details={"party": "payment_network", "reason": reason})
            payment.pop("confirmation", None)
            return payment

    def save_method(self, method_id: str, *, last4: str = "4417", declines: bool = False) -> None:
        self.methods[method_id] = {"last4": last4, "declines": declines}

    def notification(self, payment_id: str, event: str | None = None) -> bytes:
        """The body YooKassa posts to the shop's webhook when a payment changes."""
        payment = self.payments[payment_id]
        return json.dumps({"type": "notification", "event": event or f"payment.{payment['status']}",
                           "object": payment}).encode()

    def only(self) -> dict:
        assert len(self.payments) == 1, list(self.payments)
        return next(iter(self.payments.values()))

    def created(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    # ---- the API ----------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, dict]:
        self.requests.append({"method": method, "path": path, "headers": dict(headers),
                              "body": json.loads(body) if body else None})
        if self.slow:
            time.sleep(self.slow)
        with self.lock:
            if self.failures:
                failure = self.failures[0]
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.pop(0)
                extra = {"Retry-After": failure.retry_after} if failure.retry_after is not None else {}
                codes = {401: "invalid_credentials", 403: "forbidden", 429: "too_many_requests"}
                return failure.status, error(codes.get(failure.status, "internal_server_error")), extra
        expected = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, error("invalid_credentials", "Login or password is wrong"), {}
        if method == "POST" and path == "/v3/payments":
            return self.create(headers, json.loads(body or b"{}"))
        if method == "GET" and path.startswith("/v3/payments/"):
            payment = self.payments.get(path.rsplit("/", 1)[1])
            if payment is None:
                return 404, error("not_found", "Payment doesn't exist or access denied"), {}
            return 200, public(payment), {}
        return 404, error("not_found"), {}

    def create(self, headers, request: dict) -> tuple[int, dict, dict]:
        key = headers.get("Idempotence-Key")
        if not key:
            return 400, error("invalid_request", "Idempotence-Key header is missing", "Idempotence-Key"), {}
        with self.lock:
            if key in self.by_key:  # the same key: the first answer again, no second payment
                return 200, public(self.payments[self.by_key[key]]), {}
            problem = self.check(request)
            if problem:
                return 400, problem, {}
            payment = self.new_payment(request)
            self.payments[payment["id"]] = payment
            self.by_key[key] = payment["id"]
        return 200, public(payment), {}

    def check(self, request: dict) -> dict | None:
        amount = request.get("amount") or {}
        try:
            value = Decimal(amount.get("value"))
        except Exception:
            return error("invalid_request", "Amount is wrong", "amount.value")
        if value <= 0 or amount.get("currency") != "RUB":
            return error("invalid_request", "Amount is wrong", "amount")
        if len(request.get("description") or "") > 128:
            return error("invalid_request", "Description is too long", "description")
        if not request.get("payment_method_id") and (request.get("confirmation") or {}).get("type") not in (
                "redirect", "qr"):
            return error("invalid_request", "Confirmation is missing", "confirmation")
        if request.get("payment_method_id") and request["payment_method_id"] not in self.methods:
            return error("invalid_request", "Payment method is not saved", "payment_method_id")
        receipt = request.get("receipt")
        if receipt is None:
            return error("invalid_request", "Receipt is missing or illegal", "receipt") if self.require_receipt \
                else None
        customer = receipt.get("customer") or {}
        if not (customer.get("phone") or customer.get("email")):
            return error("invalid_request", "Receipt customer contact is missing", "receipt.customer")
        if customer.get("phone") and not customer["phone"].isdigit():
            return error("invalid_request", "Receipt phone is wrong", "receipt.customer.phone")
        items = receipt.get("items") or []
        if not items or any(not (i.get("description") and i.get("quantity") and i.get("vat_code")) for i in items):
            return error("invalid_request", "Receipt items are wrong", "receipt.items")
        if sum(Decimal(i["amount"]["value"]) * Decimal(i["quantity"]) for i in items) != value:
            return error("invalid_request", "Receipt items do not add up to the amount", "receipt.items")
        return None

    def new_payment(self, request: dict) -> dict:
        payment_id = str(uuid.uuid4())
        payment = {"id": payment_id, "status": "pending", "paid": False, "amount": request["amount"],
                   "description": request.get("description"), "recipient": {"account_id": SHOP_ID,
                                                                               "gateway_id": "1"},
                   "created_at": "2026-12-07T07:00:00.000Z", "test": True, "refundable": False,
                   "metadata": request.get("metadata") or {}}
        saved_id = request.get("payment_method_id")
        if saved_id:  # a saved method: decided at once, no customer
            method = self.methods[saved_id]
            payment["payment_method"] = {"type": "bank_card", "id": saved_id, "saved": True,
                                         "title": f"Bank card *{method['last4']}",
                                         "card": {"first6": "555555", "last4": method["last4"],
                                                  "expiry_month": "07", "expiry_year": "2030",
                                                  "card_type": "MasterCard"}}
            if self.saved_pending:
                return payment
            if method["declines"]:
                payment.update(status="canceled", cancellation_details={"party": "issuer",
                                                                        "reason": "permission_revoked"})
            else:
                payment.update(status="succeeded", paid=True)
            return payment
        confirmation = request["confirmation"]
        if confirmation["type"] == "qr":
            payment["payment_method"] = {"type": "sbp", "id": payment_id, "saved": False}
            payment["confirmation"] = {"type": "qr",
                                       "confirmation_data": f"https://qr.nspk.ru/AD{payment_id[:8].upper()}"}
        else:
            payment["confirmation"] = {"type": "redirect", "return_url": confirmation.get("return_url"),
                                       "confirmation_url": f"{self.url}/checkout/{payment_id}"}
        payment["_save"] = bool(request.get("save_payment_method"))
        payment["_return_url"] = confirmation.get("return_url")
        return payment

    # ---- the server -------------------------------------------------------------------------------------------

    def start(self) -> "Fake":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload, extra = fake.handle(method, self.path.split("?")[0], self.headers, body)
                if method == "POST" and status == 200 and fake.lose_answers > 0:
                    fake.lose_answers -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)  # made, but the answer never arrives
                    return
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                self._answer("POST")

            def do_GET(self):
                self._answer("GET")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/v3"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def config(self, **extra) -> dict:
        """The app's settings for a YooKassa shop at this fake."""
        return {"PAYMENT_PROVIDER": "yookassa", "YOOKASSA_SHOP_ID": SHOP_ID, "YOOKASSA_SECRET_KEY": SECRET_KEY,
                "YOOKASSA_API_URL": self.api_url, "YOOKASSA_TIMEOUT": 2, "YOOKASSA_RETRY_WAIT_MAX": 1, **extra}


def public(payment: dict) -> dict:
    return {k: v for k, v in payment.items() if not k.startswith("_")}


def error(code: str, description: str = "", parameter: str | None = None) -> dict:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return body
