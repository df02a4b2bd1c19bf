# Two commands for a fresh clone: `make dataset` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RAW    ?= data/raw
OUT    ?= data/dataset
STAMP  := $(VENV)/.installed

.PHONY: dataset test install clean notebooks dictionary export bench constraints audit

# Every install is pinned by constraints.txt (the versions of the readers and converters decide the output).
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The package's byte code written ahead: where PYTHONDONTWRITEBYTECODE is set (containers often set it)
# the build and each of its workers would otherwise compile every module again on every run.
BYTECODE := $(BIN)/python -m compileall -q pipeline

dataset: $(STAMP)
	$(BYTECODE)
	$(BIN)/ogi build $(RAW) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data/dataset data/.dataset.builds data/.dataset.cache .pytest_cache

# --- analysis layer ----------------------------------------------------------------------------------
# `make notebooks` runs every notebook on the dataset `make dataset` built (DATASET=... for another one)
# and writes their charts to <dataset>-figures/ beside the dataset. Its extra dependencies are installed here only.
DATASET  ?= $(OUT)
NB_STAMP := $(VENV)/.notebooks-installed

$(NB_STAMP): $(STAMP)
	$(PIP) -e '.[dev,notebooks]'
	touch $(NB_STAMP)

notebooks: $(NB_STAMP)
	@test -f $(DATASET)/ogi.duckdb || { echo "no dataset at $(DATASET): run make dataset first"; exit 2; }
	OGI_DATASET=$(abspath $(DATASET)) $(BIN)/python notebooks/run.py

dictionary: $(STAMP)
	$(BIN)/ogi dictionary --out docs/data_dictionary.md

export: $(STAMP)
	$(BIN)/ogi export --db $(DATASET) --out data/export

# `make audit` writes a static site over the dataset beside it (<dataset>-audit/index.html): open it in a browser.
audit: $(STAMP)
	$(BIN)/ogi audit --db $(DATASET) --out $(DATASET)-audit

# --- benchmark -----------------------------------------------------------------------------------------
# `make bench` (N=10000 synthetic reports by default, plus the samples): throughput, memory, the floor,
# incremental rebuilds; results appended to bench/results.md.
N ?= 10000
bench: $(STAMP)
	$(BYTECODE)
	$(BIN)/python -m pipeline.tools.bench --n $(N)

# After a change of dependencies in pyproject.toml: install them unpinned and record what was installed.
constraints: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,notebooks]'
	{ echo "# Pinned versions of everything the project installs (make, CI): what decides byte-identical output."; \
	  echo "# Regenerate after changing dependencies: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^ogi-dataset'; } > constraints.txt
