# Two commands for a fresh clone: `make dataset` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RAW    ?= data/raw
OUT    ?= data/dataset
STAMP  := $(VENV)/.installed

.PHONY: dataset test install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dataset: $(STAMP)
	$(BIN)/ogi build $(RAW) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/dataset .pytest_cache
