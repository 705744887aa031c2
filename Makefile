# Everything installs itself: `make test` and `make solve` work from a bare machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROBLEM ?= problems/sum-of-two.json
N      ?= 16

.PHONY: install test solve bench lint clean sysdeps

# Debian packages: g++ compiles C++ candidates; chromium renders the bench report in a test.
sysdeps:
	@command -v g++ >/dev/null && command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ chromium >/dev/null; \
	  else echo "warning: g++/chromium missing and not root: C++ candidates and the report render test will be skipped" >&2; fi; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# Pin the CPU build first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[model,humaneval,report,dev,ray]"
	touch $(STAMP)

install: sysdeps $(STAMP)

test: install
	$(PY) -m pytest -q

solve: install
	$(VENV)/bin/alphagen solve $(PROBLEM) -n $(N)

bench: install
	$(PY) -m sandbox.bench
	$(PY) -m alphagen.benchmarks.sampler
	$(PY) -m alphagen.benchmarks.testgen

lint: install
	$(VENV)/bin/ruff check alphagen sandbox tests examples scripts
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info
