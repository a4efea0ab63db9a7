"""The only code in bookctl that speaks SQL."""

from bookctl.store.db import connect, read, write

__all__ = ["connect", "read", "write"]
