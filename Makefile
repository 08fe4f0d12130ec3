# openshift_ops.images: every developer and CI entry point.
#   make demo   run the demo playbook against the sandbox cluster (sets everything up)
#   make test   the whole suite: lint, sanity, unit, integration (sets everything up)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
ANSIBLE_CORE_SERIES := 2.19
GET_PIP_CACHE := $(HOME)/.ansible/test/cache/get_pip_24_2.py

COLLECTIONS_ROOT := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS_ROOT)/ansible_collections/openshift_ops/images
SANITY_BUILD ?= $(CURDIR)/.build/sanity
SANITY_TREE := $(SANITY_BUILD)/ansible_collections/openshift_ops/images
SANITY_ARGS ?=

# The collection is imported as ansible_collections.openshift_ops.images through a symlink to this checkout.
export PYTHONPATH := $(COLLECTIONS_ROOT)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_ROOT)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false
# Modules run on this machine with the venv's Python 3.11 (interpreter discovery may find a broken pyenv shim).
export ANSIBLE_PYTHON_INTERPRETER := $(BIN)/python
export PATH := $(BIN):$(PATH)

PYTEST := $(BIN)/python -m pytest

-include tests/sandbox/sandbox.mk

.PHONY: test-go help venv venv-oldest venv-core-2.18 venv-bench venv-builder oldest-run collection test test-unit test-core-contract test-packaging test-integration test-molecule test-cluster integration-run molecule-run sanity lint docs venv-docs demo bench clean system-packages

help:
	@echo "make demo              run the demo playbook against the sandbox cluster"
	@echo "make test              lint + sanity + unit + integration (brings the sandbox up if needed)"
	@echo "make test-unit         unit tests with coverage"
	@echo "make test-core-contract  the ansible-core internals the action plugins use, on ansible-core 2.17, 2.18, 2.19"
	@echo "make test-go           gofmt, go vet and go test of the sandbox's image API server and controllers"
	@echo "make test-integration  integration tests against the sandbox cluster"
	@echo "make test-molecule     molecule scenarios of the roles against the sandbox cluster"
	@echo "make test-packaging    the built tarball's contents and an execution environment's build context"
	@echo "make sanity            ansible-test sanity"
	@echo "make lint              ruff, mypy, yamllint, ansible-lint, antsibull-docs lint"
	@echo "make docs              the docs site (plugins, roles, guides) in .build/docs/html"
	@echo "make bench             every tool side by side against the sandbox (report in benchmarks/results/)"
	@echo "make sandbox-up | sandbox-down | sandbox-status"

venv: $(VENV)/.installed collection

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

collection: $(COLLECTION_LINK)

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn ../../../.. $(COLLECTION_LINK)

# Debian packages the sandbox and the tests need (a real registry, skopeo, htpasswd, the node; Java 17 for
# ansible-rulebook).
system-packages:
	@missing=""; \
	for tool in registry:docker-registry skopeo:skopeo htpasswd:apache2-utils containerd:containerd runc:runc busybox:busybox-static iptables:iptables nft:nftables ip:iproute2 java:openjdk-17-jre-headless; do \
	  command -v "$${tool%%:*}" >/dev/null 2>&1 || [ -x "/usr/bin/docker-registry" -a "$${tool%%:*}" = registry ] || missing="$$missing $${tool##*:}"; \
	done; \
	[ -x /usr/lib/cni/bridge ] || missing="$$missing containernetworking-plugins"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: lint sanity test-unit test-core-contract test-go test-packaging test-cluster

# The sandbox's own image API server and controllers (Go, tests/sandbox/openshift): formatted, vetted, unit-tested.
SANDBOX_GO_MODULE := tests/sandbox/openshift
test-go:
	@unformatted="$$(cd $(SANDBOX_GO_MODULE) && gofmt -l .)"; \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	cd $(SANDBOX_GO_MODULE) && go vet ./... && go test -count=1 ./...

# The pure core (no I/O) must stay at >= 90 % line coverage from unit tests alone; the I/O files are exercised
# by the integration tests against the sandbox, whose modules run in subprocesses.
space := $(subst ,, )
comma := ,
PURE_CORE := _errors _operation _kube/names \
	_kube/connection_options _kube/cluster_config _kube/cluster_config_resolution _kube/kubeconfig _kube/in_cluster \
	_kube/yaml_subset _kube/api_errors _http/proxy _http/retry \
	_registry/auth_document _registry/auth_entries _registry/credential_flow _registry/credential_lookup \
	_registry/credential_options _registry/pull_secret_data _registry/redaction _registry/registry_keys \
	_images/pull_policy _images/reference _rbac/authorization _service_accounts/secret_links \
	_image_tag/plan _pull_secret/plan _secret_link/plan _image_puller_binding/plan _image_pull_access_info/diagnose \
	_global_pull_secret/plan _global_pull_secret/rollout _masking \
	_image_stream_events/changes _image_stream_events/request
PURE_CORE_FILES := $(subst $(space),$(comma),$(foreach f,$(PURE_CORE),*/module_utils/$(f).py))
# The parsers' fuzz suite (about 110,000 examples) runs on its own, without coverage's tracing, which would make
# it ten times slower.
test-unit: venv
	$(PYTEST) tests/unit -q -p no:cacheprovider -n 2 --ignore=tests/unit/plugins/fuzz \
	  --cov --cov-report=term --cov-config=pyproject.toml
	$(BIN)/coverage report --include='$(PURE_CORE_FILES),*/plugins/filter/*.py' --fail-under=90 --skip-covered
	$(PYTEST) tests/unit/plugins/fuzz -q -p no:cacheprovider -n 2

# The tarball as ansible-galaxy builds it, and an execution environment's build context from it by ansible-builder,
# which gets a venv of its own so its dependencies stay out of the development venv (docs/execution_environment.md).
BUILDER_VENV := $(CURDIR)/.build/venv-builder
ANSIBLE_BUILDER_VERSION := 3.2.0

venv-builder: $(BUILDER_VENV)/.installed

$(BUILDER_VENV)/.installed:
	$(PYTHON) -m venv $(BUILDER_VENV)
	$(BUILDER_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ansible-builder==$(ANSIBLE_BUILDER_VERSION)
	touch $@

test-packaging: venv venv-builder
	ANSIBLE_BUILDER=$(BUILDER_VENV)/bin/ansible-builder $(PYTEST) tests/packaging -q -p no:cacheprovider

# The sandbox is brought up if needed (built on a new machine) and stopped afterwards if these targets started it.
test-integration: venv system-packages
	$(BIN)/python tests/sandbox/with_sandbox.py -- $(MAKE) --no-print-directory integration-run

test-molecule: venv system-packages
	$(BIN)/python tests/sandbox/with_sandbox.py -- $(MAKE) --no-print-directory molecule-run

test-cluster: venv system-packages venv-oldest
	$(BIN)/python tests/sandbox/with_sandbox.py -- $(MAKE) --no-print-directory integration-run molecule-run oldest-run

# requires_ansible says 2.17: render every plugin's docs and run the demo (two passes, the second must change
# nothing) with the oldest supported ansible-core too.
OLDEST_ANSIBLE_CORE := 2.17.14
OLDEST_VENV := $(CURDIR)/.venv-oldest

venv-oldest: $(OLDEST_VENV)/.installed

$(OLDEST_VENV)/.installed:
	$(PYTHON) -m venv $(OLDEST_VENV)
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check ansible-core==$(OLDEST_ANSIBLE_CORE)
	touch $@

oldest-run: venv-oldest
	for plugin in image_tag pull_secret secret_link image_puller_binding global_pull_secret image_pull_access_info; do \
	  $(OLDEST_VENV)/bin/ansible-doc openshift_ops.images.$$plugin >/dev/null; done
	for plugin in dockerconfigjson image_ref pull_policy; do \
	  $(OLDEST_VENV)/bin/ansible-doc -t filter openshift_ops.images.$$plugin >/dev/null; done
	PYTHONPATH= ANSIBLE_PYTHON_INTERPRETER=$(OLDEST_VENV)/bin/python \
	  $(OLDEST_VENV)/bin/ansible-playbook -i localhost, playbooks/demo.yml

# The private ansible-core names the action plugins use, pinned with the behaviour relied on (the test lists them),
# the deprecations of the in-process path and masking against remove_values, on every supported ansible-core
# series: 2.17 in the oldest venv, 2.18 in a venv of its own, 2.19 in the development venv. Their pytest and
# hypothesis are those of requirements-dev.txt.
CORE_2_18_ANSIBLE_CORE := 2.18.19
CORE_2_18_VENV := $(CURDIR)/.build/venv-core-2.18
CONTRACT_TEST_TOOLS := $(shell grep -E '^(pytest|hypothesis)==' requirements-dev.txt)
CONTRACT_TESTS := tests/unit/plugins/plugin_utils/test_core_contract.py \
	tests/unit/plugins/plugin_utils/test_in_process_deprecations.py tests/unit/plugins/module_utils/test_masking.py

venv-core-2.18: $(CORE_2_18_VENV)/.installed

$(CORE_2_18_VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(CORE_2_18_VENV)
	$(CORE_2_18_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  ansible-core==$(CORE_2_18_ANSIBLE_CORE) $(CONTRACT_TEST_TOOLS)
	touch $@

$(OLDEST_VENV)/.test-tools: requirements-dev.txt $(OLDEST_VENV)/.installed
	$(OLDEST_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(CONTRACT_TEST_TOOLS)
	touch $@

test-core-contract: venv venv-core-2.18 $(OLDEST_VENV)/.test-tools
	for python in $(OLDEST_VENV)/bin/python $(CORE_2_18_VENV)/bin/python $(BIN)/python; do \
	  echo "ansible-core $$($$python -c 'from ansible.release import __version__; print(__version__)')"; \
	  $$python -m pytest $(CONTRACT_TESTS) -q -p no:cacheprovider; done

integration-run:
	$(PYTEST) tests/integration -q -p no:cacheprovider

# Every scenario runs with -vvv and --diff; its whole output is then searched for the sandbox's secrets.
MOLECULE_LOG := $(CURDIR)/.build/molecule.log
molecule-run:
	mkdir -p $(dir $(MOLECULE_LOG))
	ANSIBLE_VERBOSITY=3 ANSIBLE_DIFF_ALWAYS=true $(BIN)/molecule test --all > $(MOLECULE_LOG) 2>&1 \
	  || { tail -n 300 $(MOLECULE_LOG); echo "molecule failed; whole output in $(MOLECULE_LOG)"; exit 1; }
	# molecule forces colour on ansible: strip the escapes before picking out the summary lines.
	sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' $(MOLECULE_LOG) | grep -E "^(INFO|PLAY RECAP|localhost)" | tail -n 60 || true
	$(BIN)/python tests/integration/leak_scan.py $(MOLECULE_LOG)

# ansible-test must run from an ansible_collections/<ns>/<name> tree: copy the files git knows about into one.
sanity: venv
	rm -rf $(SANITY_BUILD)
	mkdir -p $(SANITY_TREE)
	git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t $(SANITY_TREE)
	# ansible-test lists files with git; the copy lives inside this (ignoring) checkout, so give it its own index.
	cd $(SANITY_TREE) && git init -q && git add -A
	mkdir -p $(dir $(GET_PIP_CACHE))
	cp tools/get_pip_offline.py $(GET_PIP_CACHE)
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --python 3.11 --requirements --color no $(SANITY_ARGS)

lint: venv venv-docs
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy plugins extensions/eda tests/unit tests/packaging
	$(BIN)/yamllint -s .
	$(BIN)/antsibull-changelog lint
	$(BIN)/ansible-lint --nocolor -q
	cd $(COLLECTION_LINK) && PATH=$(DOCS_BIN):$$PATH $(DOCS_BIN)/antsibull-docs lint-collection-docs --plugin-docs .

# The docs site: antsibull-docs writes the module, filter and role pages, the guides (docs/*.md) are read by MyST,
# and Sphinx builds both with tools/docs_site/conf.py; any warning fails the build. The tools get a venv of their
# own, with their own ansible-core, whose ansible-doc antsibull-docs runs.
DOCS_VENV := $(CURDIR)/.build/venv-docs
DOCS_BIN := $(DOCS_VENV)/bin
DOCS_BUILD := $(CURDIR)/.build/docs

venv-docs: $(DOCS_VENV)/.installed collection

$(DOCS_VENV)/.installed: requirements-docs.txt
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-docs.txt
	touch $@

docs: venv-docs
	rm -rf $(DOCS_BUILD)
	mkdir -p $(DOCS_BUILD)/rst
	# antsibull-docs wants its output directory writable by its owner only.
	chmod go-w $(DOCS_BUILD)/rst
	PATH=$(DOCS_BIN):$$PATH $(DOCS_BIN)/antsibull-docs collection --use-current --fail-on-error \
	  --dest-dir $(DOCS_BUILD)/rst openshift_ops.images
	cp tools/docs_site/index.rst $(DOCS_BUILD)/rst/
	mkdir -p $(DOCS_BUILD)/rst/guides
	cp docs/*.md $(DOCS_BUILD)/rst/guides/
	$(DOCS_BIN)/sphinx-build -b html -c tools/docs_site -W --keep-going -q $(DOCS_BUILD)/rst $(DOCS_BUILD)/html
	@echo "$$(find $(DOCS_BUILD)/html -name '*.html' | wc -l) pages in $(DOCS_BUILD)/html (index.html)"

demo: venv system-packages
	$(BIN)/python tests/sandbox/with_sandbox.py --keep -- $(BIN)/ansible-playbook -i localhost, playbooks/demo.yml

# The peers come from PyPI in a venv of their own: ansible 12 (ansible-core 2.19, with kubernetes.core and
# community.okd), the kubernetes client they need, matplotlib for the chart, ansible-runner for the fleet's AWX-style
# slices. Everything runs on its ansible-core.
BENCH_VENV := $(CURDIR)/.venv-bench
BENCH_REQUIREMENTS := 'ansible>=12,<13' 'kubernetes>=37,<38' 'matplotlib>=3.9,<4' 'ansible-runner>=2.4,<2.5'
BENCH_ARGS ?=

# The mark names the requirements: a bench venv made before a requirement was added gets it on the next run.
BENCH_INSTALLED := $(BENCH_VENV)/.installed-$(shell echo "$(BENCH_REQUIREMENTS)" | sha256sum | cut -c1-12)

venv-bench: $(BENCH_INSTALLED)

$(BENCH_INSTALLED):
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(BENCH_REQUIREMENTS)
	touch $@

bench: venv system-packages venv-bench
	$(BIN)/python tests/sandbox/with_sandbox.py -- $(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf .build .pytest_cache .mypy_cache .ruff_cache .coverage
