# The two commands of README.md, from a fresh clone:
#   make quickstart    train the DCGAN quickstart (configs/dcgan_digits.yaml)
#   make test          run the test suite
# Each creates .venv on first use (Python >= MIN_PYTHON) with torch and the project (editable, dev extras); later
# calls reuse it, and reinstall the project when pyproject.toml changes.
#
# Another torch build (e.g. CUDA on a GPU machine): give a pip requirement and/or an index before the first call,
# or after `make distclean`:
#   make test TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
#   make test TORCH_SPEC="torch==2.13.0" TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130
# Other variables: PYTHON (the interpreter that creates .venv), VENV, ARGS (extra arguments to the quickstart's
# `fit`, e.g. ARGS="--trainer.max_epochs 5"), PYTEST_ARGS (e.g. PYTEST_ARGS="-x tests/cli/test_app.py").

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
MIN_PYTHON := 3.10
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
ARGS ?=
PYTEST_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip

.DEFAULT_GOAL := help

# Before .venv exists, a target that needs it checks PYTHON first: one message, nothing created.
ifneq ($(filter-out help clean distclean,$(or $(MAKECMDGOALS),help)),)
ifeq ($(wildcard $(BIN)/python),)
_PY_VERSION := $(shell $(PYTHON) -c 'import sys; print(".".join(map(str, sys.version_info[:3])))' 2>/dev/null)
_PY_OK := $(shell $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < tuple(map(int, "$(MIN_PYTHON)".split("."))))' 2>/dev/null && echo ok)
ifneq ($(_PY_OK),ok)
$(error lightning_gan needs Python >= $(MIN_PYTHON) (pyproject.toml requires-python), but PYTHON=$(PYTHON) is $(or $(_PY_VERSION),not a runnable Python). Name a newer one: make $(MAKECMDGOALS) PYTHON=python3.11)
endif
endif
endif
.PHONY: help install quickstart test lint format clean distclean

help: ## List the targets.
	@echo "Usage: make <target> [VARIABLE=value ...]   (variables: see the top of the Makefile)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PIP) install --quiet --upgrade pip
	@# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build onto a CPU machine.
	$(BIN)/python -c 'import torch' 2>/dev/null || \
	  $(PIP) install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url $(TORCH_INDEX_URL))
	$(PIP) install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install torch and the project (done by the targets below when needed).

quickstart: $(STAMP) ## Train the DCGAN quickstart on the bundled digits (46 s on 2 idle CPU cores once .venv exists).
	$(BIN)/python -m lightning_gan fit --config configs/dcgan_digits.yaml $(ARGS)

test: $(STAMP) ## Run the test suite.
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint rules, formatting), mypy and the import-layer contract.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check lightning_gan tests scripts benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP) ## ruff: apply the safe lint fixes and format the code.
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format lightning_gan tests scripts benchmarks examples

clean: ## Remove caches and build files (keeps .venv and runs/).
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info

distclean: clean ## Also remove .venv (the next target reinstalls; runs/ is kept).
	rm -rf $(VENV)
