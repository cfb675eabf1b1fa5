"""The SMS backends: the HTTP provider API against a local fake provider, and the outbox."""
import io
import json
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.sms import SmsSendError, gateway_from_config
from portal.sms.http import HttpGateway
from portal.sms.outbox import OutboxGateway


class FakeProvider:
    """A provider's HTTP API on 127.0.0.1:<free port>, in a thread; records what it was sent.

    ``status``/``body`` are the answer; ``delay`` holds the answer back (released at stop).
    """

    def __init__(self, status: int = 200, body: bytes = b'{"id": "prov-1"}', delay: float = 0):
        self.status, self.body, self.delay = status, body, delay
        self.requests: list[dict] = []
        self.release = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                provider.requests.append({"path": self.path, "headers": dict(self.headers), "body": raw})
                if provider.delay:
                    provider.release.wait(provider.delay)
                try:
                    self.send_response(provider.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(provider.body)))
                    self.end_headers()
                    self.wfile.write(provider.body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def provider():
    with FakeProvider() as fake:
        yield fake


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_posts_json_with_the_bearer_token_and_returns_the_provider_id(provider):
    gateway = HttpGateway(provider.url, "s3cret-token", timeout=2)
    assert gateway.send("+79161234567", "Your password AB3DE", sender="TestTel") == "prov-1"
    [request] = provider.requests
    assert request["path"] == "/v1/sms"
    assert request["headers"]["Authorization"] == "Bearer s3cret-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert provider.json() == {"to": "+79161234567", "text": "Your password AB3DE", "sender": "TestTel"}


def test_http_without_a_token_sends_no_authorization_header(provider):
    HttpGateway(provider.url, None, timeout=2).send("+79161234567", "hi", sender="TestTel")
    assert "Authorization" not in provider.requests[0]["headers"]


def test_a_numeric_provider_id_comes_back_as_a_string():
    with FakeProvider(body=b'{"id": 42}') as fake:
        assert HttpGateway(fake.url, "t", timeout=2).send("+79161234567", "hi", sender="TestTel") == "42"


@pytest.mark.parametrize("status", [500, 503, 401, 400])
def test_an_http_error_answer_raises_sms_send_error(status):
    with FakeProvider(status=status, body=b'{"error": "down"}') as fake:
        with pytest.raises(SmsSendError, match=f"HTTP {status}"):
            HttpGateway(fake.url, "t", timeout=2).send("+79161234567", "hi", sender="TestTel")
        assert len(fake.requests) == 1


@pytest.mark.parametrize("body", [b'{"status": "accepted"}', b'{"id": ""}', b'{"id": null}', b"", b"not json"])
def test_an_answer_without_a_message_id_raises_sms_send_error(body):
    with FakeProvider(body=body) as fake:
        with pytest.raises(SmsSendError):
            HttpGateway(fake.url, "t", timeout=2).send("+79161234567", "hi", sender="TestTel")


@contextmanager
def raw_provider(reply: bytes):
    """A server that reads one request, writes ``reply`` verbatim (maybe nothing) and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer_once():
        conn, _ = server.accept()
        with conn:
            conn.settimeout(2)
            conn.recv(65536)
            conn.sendall(reply)

    thread = threading.Thread(target=answer_once, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1/sms"
    finally:
        thread.join(2)
        server.close()


BROKEN_ANSWERS = {
    "hang-up without an answer": b"",  # http.client.RemoteDisconnected
    "not HTTP": b"garbage\r\n\r\n",  # http.client.BadStatusLine
    "JSON that is not an object": b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n["prov-1"]',  # AttributeError
}


@pytest.mark.parametrize("reply", BROKEN_ANSWERS.values(), ids=BROKEN_ANSWERS.keys())
def test_a_broken_answer_raises_sms_send_error(reply):
    with raw_provider(reply) as url:
        with pytest.raises(SmsSendError):
            HttpGateway(url, "t", timeout=2).send("+79161234567", "hi", sender="TestTel")


def test_an_unreachable_provider_raises_sms_send_error():
    gateway = HttpGateway(f"http://127.0.0.1:{free_port()}/v1/sms", "t", timeout=2)
    with pytest.raises(SmsSendError, match="unreachable"):
        gateway.send("+79161234567", "hi", sender="TestTel")


def test_a_provider_slower_than_the_timeout_raises_sms_send_error():
    with FakeProvider(delay=5) as fake:
        gateway = HttpGateway(fake.url, "t", timeout=0.1)
        with pytest.raises(SmsSendError):
            gateway.send("+79161234567", "hi", sender="TestTel")
        assert len(fake.requests) == 1  # it was asked, it just did not answer in time


def test_the_outbox_prints_the_message_and_returns_an_id():
    stream = io.StringIO()
    gateway = OutboxGateway(stream)
    first = gateway.send("+79161234567", "TestTel: your password AB3DE", sender="TestTel")
    second = gateway.send("+79161234567", "again", sender="TestTel")
    assert stream.getvalue().splitlines() == [
        "[SMS to +79161234567 from TestTel] TestTel: your password AB3DE",
        "[SMS to +79161234567 from TestTel] again",
    ]
    assert first.startswith("outbox-") and second.startswith("outbox-") and first != second


def test_the_backend_is_chosen_by_the_config():
    config = {"SMS_BACKEND": "http", "SMS_HTTP_URL": "http://sms.example/api", "SMS_HTTP_TOKEN": "t",
              "SMS_HTTP_TIMEOUT": 3}
    gateway = gateway_from_config(config)
    assert isinstance(gateway, HttpGateway)
    assert (gateway.url, gateway.token, gateway.timeout) == ("http://sms.example/api", "t", 3)
    assert isinstance(gateway_from_config({**config, "SMS_BACKEND": "outbox"}), OutboxGateway)
