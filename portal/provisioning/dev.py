import sys

from portal.provisioning import CommandRefused


class DevSwitch:
    """Development backend: accepts every command (printed to the console) except for the numbers
    told to fail (PROVISIONING_FAIL_NUMBERS), so a refusal and its retry can be tried by hand and in tests."""

    def __init__(self, fail_numbers=(), stream=None):
        self.fail_numbers = frozenset(fail_numbers)
        self.stream = stream

    def apply(self, msisdn: str, command: dict) -> str:
        if msisdn in self.fail_numbers:
            print(f"[switch {msisdn}] refused {command['operation']} {command['params']}",
                  file=self.stream or sys.stderr, flush=True)
            raise CommandRefused("the switch refused the command for this number (development failure list)")
        print(f"[switch {msisdn}] {command['operation']} {command['params']}", file=self.stream or sys.stderr,
              flush=True)
        return f"dev-{command['id']}"
