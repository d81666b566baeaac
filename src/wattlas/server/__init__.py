"""The team planning service (``wattlas server``): shared scenarios and runs, roles,
sensitivity labels, budgets and a tamper-evident audit log, over the wattlas library.

Modules: :mod:`.db` (records, engine, migrations), :mod:`.auth` (passwords, sessions, tokens,
roles), :mod:`.audit` (the hash chain), :mod:`.scenarios` (validation, diff, labels, budgets),
:mod:`.jobs` (the run worker), :mod:`.service` (what the API and the pages both do),
:mod:`.api` and :mod:`.web` (HTTP), :mod:`.app` (the application), :mod:`.cli` (commands).
FastAPI, SQLAlchemy and the rest are imported only when a server command runs.
"""
