"""Honest ranges: prediction intervals from the validation record, input ranges and
distributions propagated by Monte Carlo, tornado rankings, and design sweeps on an executor.

Modules (lowest first): :mod:`.intervals` (the split-conformal intervals shipped in
``data/intervals.csv`` and their lookup by stage and regime), :mod:`.build` (regenerates that
file from the validation cases), :mod:`.montecarlo` (Latin-hypercube propagation through the
stages, P10/P50/P90 keys and the tornado), :mod:`.sweep` (designs, points through ``plan``,
one table) and :mod:`.executors` (in-process or a Dask cluster).

This module imports nothing, so importing a submodule stays light.
"""
