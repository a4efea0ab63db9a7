"""Sending notifications: the outbox worker (worker.py) and its channels (email.py over SMTP,
webhook.py as signed POSTs), the messages they carry (message.py) and the calendar
invitations (ics.py). Kept import-light: the heavy modules load inside the functions."""

from __future__ import annotations


class SendError(Exception):
    """A channel refused or failed a send. `transient` ones are retried with backoff (never
    sooner than `retry_after` seconds when the server said so); the others fail at once."""

    def __init__(self, message: str, transient: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message
