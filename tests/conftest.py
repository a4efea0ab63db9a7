"""Shared fixtures: every test gets its own database and a clean BOOKCTL_* environment."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bookctl.cli import app


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No BOOKCTL_* setting leaks in from the machine; the database lives in tmp_path."""
    for key in list(os.environ):
        if key.startswith("BOOKCTL_"):
            monkeypatch.delenv(key)
    db = tmp_path / "bookctl.db"
    monkeypatch.setenv("BOOKCTL_DB", str(db))
    monkeypatch.setenv("BOOKCTL_CONFIG", str(tmp_path / "config.toml"))
    return db


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error(self) -> dict[str, str]:
        return json.loads(self.stderr)["error"]


Run = Callable[..., Result]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run bookctl in-process: cli("slots", "1", "--json", now="2026-12-01T12:00:00Z")."""
    runner = CliRunner()

    def run(*args: str, now: str | None = None, input: str | None = None) -> Result:
        if now is not None:
            monkeypatch.setenv("BOOKCTL_NOW", now)
        r = runner.invoke(app, list(args), input=input)
        if r.exception is not None and not isinstance(r.exception, SystemExit):
            raise r.exception
        return Result(r.exit_code, r.stdout, r.stderr)

    return run
