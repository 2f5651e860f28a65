# The two commands of the README's quick start. Each installs what it needs into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: demo test install lint check-boards

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q -e ".[test]"

# Generate a small synthetic demo, train on its complex level, test everywhere, print the board.
demo: install
	$(BIN)/bench demo

# The whole test suite (what CI runs).
test: install
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check bench plugins tests benchmarks examples

# Every published board: scores recomputed from its predictions, rebuilt byte for byte
# (the options are those the boards were published with; see leaderboards/README.md).
check-boards: install
	OMP_NUM_THREADS=1 $(BIN)/bench leaderboard --check leaderboards/ --ci --marks tiers
