class DomainError(Exception):
    """A rule refused the change. ``field`` names the form field it belongs to, if any."""

    field: str | None = None
    status = 422  # the HTTP status a page refusing this shows

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class NotFound(DomainError):
    """The object does not exist or is not the actor's (the same answer on purpose)."""
