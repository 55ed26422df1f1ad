# CaseFlow: `make run` sets up and starts the dashboard; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test lint bench quality worker

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/python -m core setup
	$(BIN)/streamlit run serve.py --server.port $(PORT)

worker: $(VENV)/.run-deps
	$(BIN)/python -m core worker

test: $(VENV)/.dev-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .

# bench runs the quality harness too (last); quality alone: make quality QUALITY_ARGS="--servers prism --quick"
bench: $(VENV)/.dev-deps
	$(BIN)/python -m bench

quality: $(VENV)/.dev-deps
	$(BIN)/python -m bench.quality $(QUALITY_ARGS)
