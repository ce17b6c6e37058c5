# The two commands a newcomer needs: `make demo` and `make test`. Both set themselves up (make install).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TKPK_HOME := $(CURDIR)
export AIRFLOW_HOME := $(CURDIR)/var/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export PYTHONPATH := $(CURDIR)/plugins
SCALE ?= city

.PHONY: install demo airflow test lint bench clean help

help:
	@echo "make demo   - siapkan lingkungan, buat data sintetis 2 bulan, jalankan tkpk_monthly di Airflow"
	@echo "make airflow - Airflow lokal (http://localhost:8080) dengan tampilan TKPK; Ctrl-C untuk berhenti"
	@echo "make test   - siapkan lingkungan dan jalankan semua tes"
	@echo "make lint   - ruff (termasuk aturan Airflow AIR)"
	@echo "make bench  - benchmark (SCALE=city|province)"

# Re-installs only when the lock or the project metadata changed: a second run is a stamp check.
$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Butuh $(PYTHON) (Python 3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --python $(BIN)/python -q --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python -q --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m tkpk.demo

airflow: install
	$(BIN)/python -m tkpk_airflow.local

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check dags plugins tests bench

bench: install
	$(BIN)/python -m bench --scale $(SCALE)

clean:
	rm -rf var .pytest_cache
