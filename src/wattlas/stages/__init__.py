"""Stages: one library function per stage of a plan, over a validated Scenario.

Each returns the plain dict (SI units, unit-suffixed keys) that ``plan.json`` and the matching
``wattlas VERB --format json`` print, so the CLI commands and :func:`wattlas.plan.run_plan` are
thin callers of the same code:

==========  ====================================================  ==========================
stage       function                                              CLI
==========  ====================================================  ==========================
training    :func:`wattlas.stages.training.training_stage`        ``wattlas plan``
train       :func:`wattlas.stages.train.run_training` (+ ``days``)  ``wattlas train``
budget      :func:`wattlas.stages.budget.budget_stage`            ``wattlas train --budget-*``
serving     :func:`wattlas.stages.serving.serving_stage`          ``wattlas serve``
energy      :func:`wattlas.stages.energy.energy_section`          (train, serve, plan)
site        :func:`wattlas.stages.site.site_result`               ``wattlas site``
compare     :func:`wattlas.compare.compare_section`               ``wattlas plan``
route       :func:`wattlas.stages.route.route_result`             ``wattlas route``
rtt         :func:`wattlas.stages.route.rtt_stage`                ``wattlas rtt``
governance  :func:`wattlas.stages.governance.check_stage`         ``wattlas check``
validate    :func:`wattlas.stages.validate.validate_stage`        ``wattlas validate``
==========  ====================================================  ==========================

``stages.inputs`` turns the API's scenario arguments (a Scenario, path, mapping or YAML text,
keywords named like the flags) into a validated Scenario.

Stage modules import the models (``perf``, ``energy``, ``grid``, ``routing``, ...) inside their
functions and never the CLI (``wattlas.commands``); ``tests/test_architecture.py`` guards it.
"""
