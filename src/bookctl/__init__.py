"""bookctl: appointment booking for small practices."""

__version__ = "0.1.0"
