"""The bookctl command line: Typer sub-apps that parse options, call the service, render."""

from __future__ import annotations

import typer

from bookctl import __version__
from bookctl.cli import booking, catalog, reminders
from bookctl.cli.common import State
from bookctl.cli.demo import demo

app = typer.Typer(
    name="bookctl",
    help="Appointment booking for small practices, over one local SQLite file.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bookctl {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    db: str | None = typer.Option(
        None, "--db", help="Database file (default: BOOKCTL_DB, else the user data dir)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Appointment booking for small practices, over one local SQLite file."""
    State.db = db


app.add_typer(catalog.provider_app, name="provider")
app.add_typer(catalog.availability_app, name="availability")
app.add_typer(catalog.override_app, name="override")
app.add_typer(catalog.client_app, name="client")
booking.register(app)
app.add_typer(reminders.reminders_app, name="reminders")
app.add_typer(reminders.config_app, name="config")
app.command("demo")(demo)


def main() -> None:
    """The console script: like app(), but a usage error under --json is a JSON error too."""
    import sys

    from typer._click.exceptions import ClickException  # typer vendors its own click

    try:
        code = app(prog_name="bookctl", standalone_mode=False)
    except ClickException as exc:
        if "--json" in sys.argv[1:]:
            from bookctl import output
            from bookctl.errors import InvalidInput

            output.error(InvalidInput(exc.format_message()), as_json=True)
        else:
            exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("aborted\n")
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
