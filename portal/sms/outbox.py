import sys
import uuid


class OutboxGateway:
    """Development backend: the message stays in the outbox table and is printed to the console."""

    def __init__(self, stream=None):
        self.stream = stream

    def send(self, to: str, text: str, *, sender: str) -> str:
        print(f"[SMS to {to} from {sender}] {text}", file=self.stream or sys.stderr, flush=True)
        return "outbox-" + uuid.uuid4().hex[:12]
