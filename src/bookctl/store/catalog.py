"""SQL for providers, availability rules, overrides and clients."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date
from typing import Any

from bookctl.domain import Client, Override, Provider, Rule
from bookctl.timeutil import hhmm, parse_hhmm

PROVIDER_FIELDS = (
    "name",
    "timezone",
    "buffer_minutes",
    "max_advance_days",
    "cancellation_notice_hours",
    "reschedule_notice_hours",
    "min_notice_minutes",
    "default_slot_minutes",
    "email",
    "reminders",
)
_PROVIDER_COLS = "provider_id, " + ", ".join(PROVIDER_FIELDS) + ", created_at"
SQLITE_MAX_INTEGER = 2**63 - 1


def fits_integer(value: int) -> bool:
    """Whether SQLite can hold `value`: an id beyond that cannot exist (and binding it
    would raise OverflowError)."""
    return -SQLITE_MAX_INTEGER - 1 <= value <= SQLITE_MAX_INTEGER


def _provider(row: Sequence[Any]) -> Provider:
    return Provider(*row)


def insert_provider(conn: sqlite3.Connection, fields: dict[str, Any], now: int) -> int:
    cols = [c for c in PROVIDER_FIELDS if c in fields]
    cur = conn.execute(
        f"INSERT INTO providers ({', '.join(cols)}, created_at) "
        f"VALUES ({', '.join('?' for _ in cols)}, ?)",
        [fields[c] for c in cols] + [now],
    )
    return int(cur.lastrowid or 0)


def update_provider(conn: sqlite3.Connection, provider_id: int, fields: dict[str, Any]) -> None:
    cols = [c for c in PROVIDER_FIELDS if c in fields]
    if cols:
        conn.execute(
            f"UPDATE providers SET {', '.join(c + ' = ?' for c in cols)} WHERE provider_id = ?",
            [fields[c] for c in cols] + [provider_id],
        )


def get_provider(
    conn: sqlite3.Connection, provider_id: int, include_removed: bool = False
) -> Provider | None:
    """A provider; a removed one only with `include_removed` (its past appointments still
    point at it)."""
    if not fits_integer(provider_id):
        return None
    sql = f"SELECT {_PROVIDER_COLS} FROM providers WHERE provider_id = ?"
    if not include_removed:
        sql += " AND removed_at IS NULL"
    row = conn.execute(sql, (provider_id,)).fetchone()
    return _provider(row) if row else None


def list_providers(conn: sqlite3.Connection) -> list[Provider]:
    rows = conn.execute(
        f"SELECT {_PROVIDER_COLS} FROM providers WHERE removed_at IS NULL ORDER BY provider_id"
    )
    return [_provider(r) for r in rows]


def remove_provider(conn: sqlite3.Connection, provider_id: int, now: int) -> None:
    """Soft delete: past appointments and their history keep pointing at the row."""
    conn.execute("UPDATE providers SET removed_at = ? WHERE provider_id = ?", (now, provider_id))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _rule(row: Sequence[Any]) -> Rule:
    return Rule(
        day_of_week=row[2],
        start_minute=parse_hhmm(row[3]),
        end_minute=parse_hhmm(row[4], allow_24=True),
        slot_duration_minutes=row[5],
        effective_from=_date(row[6]),
        effective_until=_date(row[7]),
        rule_id=row[0],
        provider_id=row[1],
    )


def get_rules(conn: sqlite3.Connection, provider_id: int) -> list[Rule]:
    rows = conn.execute(
        "SELECT rule_id, provider_id, day_of_week, start_time, end_time, slot_duration_minutes,"
        " effective_from, effective_until FROM availability_rules WHERE provider_id = ?"
        " ORDER BY day_of_week, start_time, rule_id",
        (provider_id,),
    )
    return [_rule(r) for r in rows]


def replace_rules(conn: sqlite3.Connection, provider_id: int, rules: Sequence[Rule]) -> None:
    conn.execute("DELETE FROM availability_rules WHERE provider_id = ?", (provider_id,))
    conn.executemany(
        "INSERT INTO availability_rules (provider_id, day_of_week, start_time, end_time,"
        " slot_duration_minutes, effective_from, effective_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                provider_id,
                r.day_of_week,
                hhmm(r.start_minute),
                hhmm(r.end_minute),
                r.slot_duration_minutes,
                r.effective_from.isoformat() if r.effective_from else None,
                r.effective_until.isoformat() if r.effective_until else None,
            )
            for r in rules
        ],
    )


_OVERRIDE_COLS = "override_id, provider_id, date, type, start_time, end_time, slot_duration_minutes"


def _override(row: Sequence[Any]) -> Override:
    return Override(
        date=date.fromisoformat(row[2]),
        type=row[3],
        start_minute=parse_hhmm(row[4]) if row[4] else None,
        end_minute=parse_hhmm(row[5], allow_24=True) if row[5] else None,
        slot_duration_minutes=row[6],
        override_id=row[0],
        provider_id=row[1],
    )


def insert_override(conn: sqlite3.Connection, ov: Override, provider_id: int, now: int) -> int:
    cur = conn.execute(
        "INSERT INTO overrides (provider_id, date, type, start_time, end_time,"
        " slot_duration_minutes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            provider_id,
            ov.date.isoformat(),
            ov.type,
            hhmm(ov.start_minute) if ov.start_minute is not None else None,
            hhmm(ov.end_minute) if ov.end_minute is not None else None,
            ov.slot_duration_minutes,
            now,
        ),
    )
    return int(cur.lastrowid or 0)


def get_override(conn: sqlite3.Connection, override_id: int) -> Override | None:
    if not fits_integer(override_id):
        return None
    row = conn.execute(
        f"SELECT {_OVERRIDE_COLS} FROM overrides WHERE override_id = ?", (override_id,)
    ).fetchone()
    return _override(row) if row else None


def list_overrides(
    conn: sqlite3.Connection, provider_id: int, first: date | None, last: date | None
) -> list[Override]:
    rows = conn.execute(
        f"SELECT {_OVERRIDE_COLS} FROM overrides WHERE provider_id = ?"
        " AND date >= ? AND date <= ? ORDER BY date, start_time, override_id",
        (
            provider_id,
            first.isoformat() if first else "0000-00-00",
            last.isoformat() if last else "9999-99-99",
        ),
    )
    return [_override(r) for r in rows]


def delete_override(conn: sqlite3.Connection, override_id: int) -> None:
    conn.execute("DELETE FROM overrides WHERE override_id = ?", (override_id,))


def insert_client(
    conn: sqlite3.Connection, name: str, email: str | None, phone: str | None, now: int
) -> int:
    cur = conn.execute(
        "INSERT INTO clients (name, email, phone, created_at) VALUES (?, ?, ?, ?)",
        (name, email, phone, now),
    )
    return int(cur.lastrowid or 0)


def get_client(conn: sqlite3.Connection, client_id: int) -> Client | None:
    if not fits_integer(client_id):
        return None
    row = conn.execute(
        "SELECT client_id, name, email, phone, created_at FROM clients WHERE client_id = ?",
        (client_id,),
    ).fetchone()
    return Client(*row) if row else None


def list_clients(conn: sqlite3.Connection) -> list[Client]:
    rows = conn.execute(
        "SELECT client_id, name, email, phone, created_at FROM clients ORDER BY client_id"
    )
    return [Client(*r) for r in rows]
