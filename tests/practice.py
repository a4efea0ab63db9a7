"""Helpers shared by the CLI, refusal and race tests: a small practice set up through the
CLI, a content dump of the database, and the real `bookctl` executable."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from conftest import Run

# Monday 2026-11-30, 07:00 in New York (EST, -05:00).
NOW = "2026-11-30T12:00:00Z"
TUESDAY = "2026-12-01"
BOOKCTL = str(Path(sys.executable).with_name("bookctl"))


def ok(result: Any) -> Any:
    """The JSON document of a command that must succeed."""
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result.json


def practice(
    cli: Run,
    *provider_options: str,
    rules: tuple[str, ...] = ("mon-fri 09:00-12:00/30",),
    email: str | None = None,
    zone: str = "America/New_York",
) -> tuple[int, int]:
    """A provider with weekly rules and one client; returns (provider_id, client_id).
    Without an email the client is confirmed at once (no channel reaches it)."""
    p = ok(cli("provider", "add", "Dr Ann", "--timezone", zone, *provider_options, "--json"))
    rule_args = [arg for rule in rules for arg in ("--rule", rule)]
    ok(cli("availability", "set", str(p["provider_id"]), *rule_args, "--json"))
    client_args = ["--email", email] if email else []
    c = ok(cli("client", "add", "Bob", *client_args, "--json"))
    return p["provider_id"], c["client_id"]


def book(cli: Run, provider_id: int, client_id: int, start: str, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = ok(
        cli("book", str(provider_id), start, "--client", str(client_id), *extra, "--json", now=NOW)
    )
    return doc


def dump(db: Path) -> list[str]:
    """The database's whole content as SQL text: equal dumps, equal content."""
    with closing(sqlite3.connect(db)) as conn:
        return list(conn.iterdump())


def active_rows(db: Path, provider_id: int | None = None) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        sql = (
            "SELECT appointment_id, booking_ref, provider_id, start_at, end_at, status"
            " FROM appointments WHERE status IN ('pending', 'confirmed')"
        )
        if provider_id is None:
            return conn.execute(sql).fetchall()
        return conn.execute(sql + " AND provider_id = ?", (provider_id,)).fetchall()


def run_real(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The installed `bookctl` console script in its own process (env inherited)."""
    return subprocess.run(
        [BOOKCTL, *args], capture_output=True, text=True, input=stdin, timeout=60, check=False
    )
