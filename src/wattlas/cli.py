"""The ``wattlas`` command line: a thin Typer layer over the planning functions.

Start-up stays light: command modules import only Typer at module level and load numpy, pydantic
and the models inside the command body. Errors print one line (exit 2 bad input, 1 infeasible);
``--debug`` shows the traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperArgument, TyperCommand

from ._version import __version__
from .commands._options import error_text, plain_metavars

COMMANDS = ("catalog", "train", "serve", "site", "rtt", "route", "plan", "validate", "check",
            "sweep")

app = typer.Typer(
    name="wattlas",
    help="Plan AI compute from the model down to the grid: FLOPs, accelerators, racks, "
    "megawatts, regions, requests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help is plain text: "[tokens]" and other units in brackets print as written (rich markup
    # would swallow them); metavars come from commands._options.plain_metavars.
    rich_markup_mode=None,
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"wattlas {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
) -> None:
    _state["debug"] = debug


class _Command(TyperCommand):
    """A command whose help shows an argument by its name (SCENARIO), not a Python type."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for param in self.params:
            if isinstance(param, TyperArgument):
                param.display_type_rich = lambda ctx: None  # type: ignore[method-assign]

    def invoke(self, ctx: typer.Context) -> object:
        """Refuse non-finite or out-of-range numeric flags (wattlas.bounds) before the
        command runs."""
        from .bounds import check_flags

        check_flags(ctx.params, {p.name: max(p.opts, key=len) for p in self.params
                                 if p.name and getattr(p, "opts", None)})
        return super().invoke(ctx)


def _register() -> None:
    for name in COMMANDS:
        module = importlib.import_module(f"wattlas.commands.{name}")
        plain_metavars(module.command)
        app.command(name, cls=_Command, help=module.__doc__, no_args_is_help=getattr(
            module, "NO_ARGS_IS_HELP", False),
            context_settings=getattr(module, "CONTEXT_SETTINGS", None))(module.command)


_register()


def _register_server() -> None:
    """``wattlas server`` and its subcommands (the web stack loads inside the commands)."""
    from .server.cli import app as server_app

    app.add_typer(server_app, name="server")


_register_server()


def _command_func(argv: list[str]) -> object | None:
    """The function of the command `argv` runs (its flags decide how an error's hints read)."""
    for arg in argv[1:]:
        if arg in COMMANDS:
            return importlib.import_module(f"wattlas.commands.{arg}").command
        if not arg.startswith("-"):
            return None
    return None


def _bad_value_text(exc: Exception) -> str | None:
    """One line naming the flag, the value given (shortened) and the type expected, for a flag
    value Typer could not convert (its own message leaves the value out)."""
    param, cause = getattr(exc, "param", None), exc.__cause__
    errors = getattr(cause, "errors", None)
    if param is None or not callable(errors):
        return None
    try:
        first = errors()[0]
    except (IndexError, TypeError):
        return None
    from .bounds import shown

    flag = max(getattr(param, "opts", None) or [str(param.name)], key=len)
    want = {"int_parsing": "a whole number", "float_parsing": "a number",
            "int_from_float": "a whole number"}.get(first.get("type"), first.get("msg", ""))
    return f"Invalid value for '{flag}': {shown(first.get('input'))} is not {want}"


def main() -> None:
    """Console entry point: map wattlas errors to one line and an exit code."""
    from .errors import WattlasError

    try:
        app(standalone_mode=False)
    except WattlasError as exc:
        if _state["debug"] or "--debug" in sys.argv:
            raise
        typer.secho(f"error: {error_text(exc, _command_func(sys.argv))}", err=True, fg="red")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    except Exception as exc:  # usage errors of Typer's parser, and the unexpected
        # Typer raises click's exception classes (vendored since Typer 0.16); both carry show()
        # and an exit code (2 for usage errors), so duck typing covers every Typer version.
        if callable(getattr(exc, "show", None)) and isinstance(getattr(exc, "exit_code", None),
                                                                int):
            bad = _bad_value_text(exc)
            if bad:
                typer.secho(f"error: {bad}", err=True, fg="red")
                sys.exit(2)
            exc.show()
            sys.exit(exc.exit_code)
        if _state["debug"] or "--debug" in sys.argv:
            raise
        typer.secho(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
                    err=True, fg="red")
        sys.exit(3)


if __name__ == "__main__":
    main()
