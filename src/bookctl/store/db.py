"""Opening the database and running write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bookctl.errors import BookctlError, InvalidInput
from bookctl.store.schema import migrate

BUSY_TIMEOUT_MS = 30_000


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (creating on first use) the bookctl database at `path`: WAL, foreign keys on,
    a busy timeout, the schema migrated to the newest version."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise InvalidInput(f"database path {str(p)!r} is a directory")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves (see `write`).
        conn = sqlite3.connect(p, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit is on disk before we say "booked" (WAL + NORMAL could lose the
        # last commits on power loss).
        conn.execute("PRAGMA synchronous = FULL")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise BookctlError(f"cannot open database {str(p)!r}: {exc}", "database_error") from None
    except OSError as exc:
        raise InvalidInput(f"cannot open database {str(p)!r}: {exc}") from None
    return conn


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction. BEGIN IMMEDIATE takes the write lock first, so a read-then-write
    never races another writer (a plain BEGIN would fail with SQLITE_BUSY at its first write,
    ignoring busy_timeout). Any exception rolls everything back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextmanager
def read(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent snapshot for several SELECTs."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
