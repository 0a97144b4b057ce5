# readiness: two commands on a fresh machine.
#   make demo   the main job end to end (no network; its one server listens on 127.0.0.1)
#   make test   ruff + mypy + the whole test suite (the browser test needs /usr/bin/chromium)
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-test
PYTEST_WORKERS ?= 2

.PHONY: test demo lint bench screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes: a no-op when already installed.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/mypy src

test: lint
	DVC_NO_ANALYTICS=1 $(PY) -m pytest -n $(PYTEST_WORKERS) --dist worksteal --durations=15

demo: $(STAMP)
	DVC_NO_ANALYTICS=1 $(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) benchmarks/import_time.py
	$(PY) benchmarks/track.py
	$(PY) benchmarks/batch.py
	$(PY) benchmarks/drift.py
	$(PY) benchmarks/record.py
	$(PY) benchmarks/secrets_scan.py
	$(PY) benchmarks/serve.py

# the widget pictures in docs/widgets.md, taken by the browser test in JupyterLab
screenshots: $(STAMP)
	READINESS_SCREENSHOTS=docs/img DVC_NO_ANALYTICS=1 $(PY) -m pytest tests/test_browser.py tests/test_dashboard.py -q

clean:
	rm -rf .demo .pytest_cache .mypy_cache build dist
