"""The switch behind the settings: one protocol, a development backend and an HTTP backend.

Forwarding, blacklist, voicemail, ringback tones and blocks are the network's settings;
the portal asks the switch to change them (``apply``) and records what it answered.
"""
from typing import Protocol


class CommandRefused(Exception):
    """The switch understood the command and said no: trying the same again will not help."""


class SwitchUnavailable(Exception):
    """The switch could not be reached or failed itself: a later try may succeed."""


class SwitchBackend(Protocol):
    def apply(self, msisdn: str, command: dict) -> str:
        """Carry out ``command`` ({"id", "operation", "params"}) on the line; return the switch's reference.

        ``command["id"]`` is the same on every try of one command, so the switch can
        answer a repeat without doing the change twice.
        """


def backend_from_config(config) -> SwitchBackend:
    if config["PROVISIONING_BACKEND"] == "http":
        from portal.provisioning.http import HttpSwitch

        return HttpSwitch(config["PROVISIONING_HTTP_URL"], config["PROVISIONING_HTTP_TOKEN"],
                          timeout=config["PROVISIONING_HTTP_TIMEOUT"])
    from portal.provisioning.dev import DevSwitch

    return DevSwitch(fail_numbers=config["PROVISIONING_FAIL_NUMBERS"])
