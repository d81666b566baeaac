# Every target builds the virtual environment it needs; nothing is installed by hand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs clean

BASE := $(VENV)/.installed-base

# the demo needs the package alone; tests, benchmarks and docs need the dev extras
$(BASE): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(BASE)
	$(BIN)/wattlas plan examples/frontier-training.yaml --out out/frontier-training --force

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

docs: $(STAMP)  # intervals from the validation cases, generated blocks (README, docs/validation.md), then every block's shown output
	$(BIN)/python -m wattlas.uncertainty.build
	$(BIN)/python docs/generate.py
	$(BIN)/python docs/blocks.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
