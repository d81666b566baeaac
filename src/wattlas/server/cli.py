"""``wattlas server``: run the service, create the first admin, verify and export the audit log.

Only Typer is imported here; the web stack loads inside each command, so ``wattlas --help``
stays fast.
"""

from __future__ import annotations

import os
import sys

import typer

from .settings import DEFAULT_URL

app = typer.Typer(help="The team planning service: shared scenarios and runs, roles, budgets, "
                  "sensitivity labels and a tamper-evident audit log.",
                  add_completion=False, invoke_without_command=True, rich_markup_mode=None)
audit_app = typer.Typer(help="Verify or export the audit log.", no_args_is_help=True,
                        add_completion=False, rich_markup_mode=None)
app.add_typer(audit_app, name="audit")

DB = typer.Option(None, "--db", help="Database URL: sqlite:///FILE (default "
                  f"{DEFAULT_URL}) or postgresql+psycopg://USER@HOST/DB. Also WATTLAS_DB.")


def _url(db: str | None) -> str:
    url = db or os.environ.get("WATTLAS_DB") or DEFAULT_URL
    if not url.startswith(("sqlite:///", "postgresql+psycopg://", "postgresql://")):
        from ..errors import InputError

        raise InputError(f"--db {url[:60]!r}: allowed: sqlite:///FILE or "
                         "postgresql+psycopg://USER@HOST[:PORT]/DB")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _engine(db: str | None):  # noqa: ANN202
    from ..errors import InputError
    from . import db as dbm

    try:
        engine = dbm.make_engine(_url(db))
        dbm.migrate(engine)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - an unreachable database is bad input here
        raise InputError(f"--db: cannot open the database: {type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:200]}") from None
    return engine


@app.callback()
def serve(ctx: typer.Context, db: str | None = DB,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
          port: int = typer.Option(8000, "--port", min=1, max=65535,
                                   help="Port to listen on.")) -> None:
    """Run the service (the JSON API under /api/, the web pages at /)."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from .app import create_app

    _engine(db).dispose()
    typer.echo(f"wattlas server on http://{host}:{port}/ (database {_url(db).split('@')[-1]})",
               err=True)
    uvicorn.run(create_app(_url(db)), host=host, port=port, log_level="warning",
                proxy_headers=False)


@app.command("create-admin")
def create_admin(username: str = typer.Option(..., "--username", help="The admin's user "
                                              "name."),
                 db: str | None = DB,
                 password_stdin: bool = typer.Option(
                     False, "--password-stdin", help="Read the password from standard input "
                     "(else WATTLAS_ADMIN_PASSWORD, else a prompt).")) -> None:
    """Create a superadmin: may create users and workspaces and read the whole audit log."""
    import re

    from sqlalchemy import select

    from ..errors import InputError
    from . import audit, auth
    from .db import User, sessions

    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        raise InputError(f"--username {username[:70]!r}: allowed: 1-64 of A-Z a-z 0-9 _ . @ -")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("WATTLAS_ADMIN_PASSWORD") or typer.prompt(
            "password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise InputError("password: allowed: at least 12 characters")
    engine = _engine(db)
    with audit.LOCK, sessions(engine)() as s:
        if s.scalar(select(User).where(User.username == username)):
            raise InputError(f"--username {username!r}: that user exists")
        auth.create_user(s, username, password, superadmin=True)
        audit.append(s, actor="cli", action="create", obj=f"user/{username}",
                     detail="superadmin")
        s.commit()
    engine.dispose()
    typer.echo(f"created superadmin {username}")


@audit_app.command("verify")
def verify(db: str | None = DB) -> None:
    """Check the audit log's hash chain: exit 0 intact, 1 tampered (names the first bad
    entry)."""
    from . import audit
    from .db import sessions

    engine = _engine(db)
    with sessions(engine)() as s:
        verdict = audit.verify(s)
    engine.dispose()
    typer.echo(verdict.line())
    raise typer.Exit(0 if verdict.ok else 1)


@audit_app.command("export")
def export(db: str | None = DB,
           out: str | None = typer.Option(None, "--out", help="Write to this file (default: "
                                          "standard output); an existing file is refused.")
           ) -> None:
    """The audit log as JSON lines, in chain order."""
    from . import audit
    from .db import sessions

    engine = _engine(db)
    with sessions(engine)() as s:
        lines = [line + "\n" for line in audit.export_lines(s)]
    engine.dispose()
    if out is None:
        sys.stdout.writelines(lines)
        return
    from ..errors import InputError

    try:
        with open(out, "x", encoding="utf-8") as fh:
            fh.writelines(lines)
    except FileExistsError:
        raise InputError(f"--out {out!r}: the file exists; choose a new name") from None
    except OSError as exc:
        raise InputError(f"--out {out!r}: {exc.strerror}") from None
    typer.echo(f"wrote {len(lines)} entries to {out}", err=True)
