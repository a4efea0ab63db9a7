"""Shell completions are generated from the app and kept fresh; every command has help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from bookctl.cli import app

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_fresh(shell: str) -> None:
    env = {**os.environ, "_BOOKCTL_COMPLETE": f"source_{shell}"}
    fresh = subprocess.run(
        [sys.executable, "-m", "bookctl"], env=env, capture_output=True, text=True, check=True
    ).stdout
    committed = (ROOT / "completions" / f"bookctl.{shell}").read_text()
    assert fresh == committed, (
        f"completions/bookctl.{shell} is stale: regenerate with"
        f" _BOOKCTL_COMPLETE=source_{shell} bookctl > completions/bookctl.{shell}"
    )


def _commands(group: typer.Typer, prefix: str = "") -> list[tuple[str, str | None]]:
    """(full command name, its help) for every command and sub-app, recursively."""
    import typer.main

    click_group = typer.main.get_command(group)
    out: list[tuple[str, str | None]] = []

    def walk(cmd: object, name: str) -> None:
        help_text = getattr(cmd, "help", None) or getattr(cmd, "short_help", None)
        out.append((name, help_text))
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{name} {sub_name}".strip())

    walk(click_group, prefix)
    return out


def test_every_command_has_help_text() -> None:
    commands = _commands(app)
    names = {name for name, _ in commands}
    for expected in (
        "provider add",
        "availability set",
        "override add",
        "client show",
        "slots",
        "book",
        "cancel",
        "reschedule",
        "history",
        "appointments list",
        "demo",
    ):
        assert expected in names
    missing = [name for name, help_text in commands if name and not (help_text or "").strip()]
    assert missing == []


def test_every_option_has_help_text() -> None:
    import typer.main

    def walk(cmd: object, name: str) -> list[str]:
        bad = [
            f"{name} {p.name}"
            for p in getattr(cmd, "params", [])
            if getattr(p, "param_type_name", "") == "option" and not getattr(p, "help", None)
        ]
        for sub_name, sub in getattr(cmd, "commands", {}).items():
            bad += walk(sub, f"{name} {sub_name}")
        return bad

    assert walk(typer.main.get_command(app), "bookctl") == []
