"""What every command shares: the --json option, opening the service, mapping errors to exit
codes once, at the boundary, so no traceback ever reaches a user."""

from __future__ import annotations

import functools
import os
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from bookctl.errors import BookctlError

if TYPE_CHECKING:
    from bookctl.service import Service

F = TypeVar("F", bound=Callable[..., Any])

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


class State:
    """Global options, set by the app callback (`bookctl --db PATH ...`)."""

    db: str | None = None


def now() -> int:
    """The clock, read once per command: BOOKCTL_NOW when set (scripts, tests), else real."""
    text = os.environ.get("BOOKCTL_NOW")
    if text:
        from bookctl.timeutil import parse_now

        return parse_now(text)
    return int(time.time())


def open_service() -> Service:
    from bookctl.config import db_path
    from bookctl.service import Service
    from bookctl.store import connect

    return Service(connect(db_path(State.db)), now())


def handles_errors(fn: F) -> F:
    """Run a command; a BookctlError becomes its message and exit code, anything else an
    `internal` error (exit 1) without a traceback (BOOKCTL_DEBUG=1 shows it)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from bookctl import output

        as_json = bool(kwargs.get("as_json", False))
        try:
            return fn(*args, **kwargs)
        except BookctlError as exc:
            output.error(exc, as_json)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except sqlite3.OperationalError as exc:
            if os.environ.get("BOOKCTL_DEBUG"):
                raise
            err = BookctlError(f"database error: {exc}", "database_error")
            output.error(err, as_json)
            raise typer.Exit(1) from None
        except Exception as exc:
            if os.environ.get("BOOKCTL_DEBUG"):
                raise
            err = BookctlError(
                f"internal error ({type(exc).__name__}: {exc}); this is a bug, please report"
                " it (BOOKCTL_DEBUG=1 shows the traceback)"
            )
            output.error(err, as_json)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]
