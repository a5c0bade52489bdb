# The workspace's commands. `make demo` and `make test` bootstrap what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrapped
DISTS := packages/ogpu-ipfs packages/ogpu-protocol packages/ogpu-client devnet packages/ogpu-service
PYTEST_ARGS ?=

.PHONY: bootstrap demo test check lint typecheck bench clean

$(STAMP): constraints.txt requirements-dev.txt pyproject.toml $(addsuffix /pyproject.toml,$(DISTS))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt hatchling editables pip
	$(PY) -m pip install --quiet --disable-pip-version-check --no-build-isolation -c constraints.txt \
		-r requirements-dev.txt $(addprefix -e ,$(DISTS)) -e . "vyper"
	@touch $(STAMP)

bootstrap: $(STAMP)

demo: $(STAMP)
	$(PY) -m ogpu_devnet demo

check: lint typecheck

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: check
	$(VENV)/bin/pytest -q -n 2 $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .bench build dist

.PHONY: api
api: $(STAMP)  ## regenerate the public-surface listings in api/ (review the diff)
	$(PY) scripts/public_api.py --write

# The documentation site: mkdocs.yml + docs/, built into site/ (git-ignored) with warnings as
# errors. tests/test_docs.py builds it too, so `make test` fails on a broken page.
.PHONY: docs
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# The suite without the tests marked slow (wheels, venvs, external nodes): the quick loop.
.PHONY: test-fast
test-fast: check
	$(VENV)/bin/pytest -q -n 2 -m "not slow" $(PYTEST_ARGS)
