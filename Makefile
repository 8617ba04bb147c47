# The MES on one machine (ARCHITECTURE.md §8). `make help` lists the targets.
#
#   make run     virtualenv, backing servers, databases + migrations, every process
#   make test    virtualenv, backing servers, the whole test suite (PYTEST_ARGS=...)
#
# Backing servers (PostgreSQL, RabbitMQ, Redis) are found, or started when they
# are installed locally (as root) or through docker-compose.yml when Docker
# works; otherwise `mes infra check` says what is missing and how to get it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3.11
VENV        := .venv
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed
MES         := $(BIN)/mes
PYTEST_ARGS ?=
APT_ENV     := DEBIAN_FRONTEND=noninteractive
# The official QIF and B2MML schemas (never copied into the checkout): beside it, or where this
# kind of machine keeps them; the services and tests read STANDARDS_DIR.
STANDARDS_DIR ?= $(firstword $(wildcard $(abspath ../shared/standards) /work/shared/standards))
export STANDARDS_DIR

.PHONY: help venv infra db run test test-console test-fast demo reset compose-tool pdf-libs browser bench clean distclean \
        podman-tools image container-test

help: ## this list
	@echo "usage: make TARGET   (variables: PYTHON=$(PYTHON), PYTEST_ARGS='...')"
	@echo
	@awk -F':.*## ' '/^[a-z-]+:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

venv: $(STAMP) ## create .venv (python3.11) and install the project with its test extras

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (e.g. apt-get install python3.11 python3.11-venv, or pyenv), or make PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# editable_mode=compat puts the repository on sys.path (a .pth file), so a service
# package added later is importable without reinstalling.
$(STAMP): pyproject.toml Makefile | $(BIN)/python
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
	@touch $@

infra: venv ## find or start PostgreSQL, RabbitMQ and Redis (else say what is missing)
	$(MES) infra check --start

db: venv infra ## create the service roles/databases, each process's broker login, and run the migrations
	$(MES) db create
	$(MES) infra logins
	$(MES) migrate

run: venv pdf-libs infra db ## start every service and the gateway under the supervisor
	$(MES) run

compose-tool: ## (used by test) Debian's docker-compose, when missing and root
	@if ! command -v docker-compose >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing docker-compose (apt-get)"; \
	  $(APT_ENV) apt-get install -y -q docker-compose >/dev/null \
	  || { apt-get update -q >/dev/null && $(APT_ENV) apt-get install -y -q docker-compose >/dev/null; } \
	  || echo "warning: could not install docker-compose; tests that need it will say so" >&2; \
	fi

pdf-libs: ## (used by run and test) Pango and a font for PDF reports (WeasyPrint), when missing and root
	@if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Pango for PDF reports (apt-get)"; \
	  $(APT_ENV) apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core >/dev/null \
	  || { apt-get update -q >/dev/null && $(APT_ENV) apt-get install -y -q libpango-1.0-0 libpangoft2-1.0-0 \
	       fonts-dejavu-core >/dev/null; } \
	  || echo "warning: could not install Pango; PDF reports will answer 503" >&2; \
	fi

browser: ## (used by test) Debian's Chromium (browser tests) and Node.js (the console's rules), when missing and root
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $$missing for the console's tests (apt-get)"; \
	  $(APT_ENV) apt-get install -y -q $$missing >/dev/null \
	  || { apt-get update -q >/dev/null && $(APT_ENV) apt-get install -y -q $$missing >/dev/null; } \
	  || echo "warning: could not install $$missing; the console's tests will say so" >&2; \
	fi

test: venv compose-tool pdf-libs browser infra ## run the whole test suite against the real servers (PYTEST_ARGS=...)
	$(BIN)/pytest $(PYTEST_ARGS)
	@if [ -z "$(PYTEST_ARGS)" ]; then $(MAKE) --no-print-directory test-console; fi

# Playwright's synchronous API cannot share a process with eventlet's monkey patching (a blocked
# call starves the supervisor's pipes): the browser tests run in a pytest of their own.
test-console: venv browser infra ## the console's browser tests (Playwright + Debian's Chromium), screenshots in var/
	$(BIN)/pytest -p no:pytest_eventlet tests/console $(CONSOLE_ARGS)

demo: venv ## load the README's plant, people, parts, lots and an order in progress into a running MES
	$(BIN)/python tools/demo.py

reset: venv ## drop the development databases, the keys and the demo's state (then `make run` starts afresh)
	$(MES) db drop --yes
	rm -rf var/auth var/demo

# ---- containers, for real (podman; ../shared/containers/README.md says what this machine needs) -------
IMAGE          ?= localhost/mes-platform:dev
PYTHON_IMAGE   ?= localhost/mes-python:3.11-slim
PODMAN_LIMITS  := --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
CA_BUNDLE      := /etc/ssl/certs/ca-certificates.crt

podman-tools: ## (used by image) podman and debootstrap, and RabbitMQ's management API, when missing and root
	@if ! command -v podman >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then \
	  [ "$$(id -u)" = 0 ] || { echo "podman and debootstrap are needed: apt-get install podman debootstrap"; exit 1; }; \
	  echo "installing podman and debootstrap (apt-get)"; \
	  $(APT_ENV) apt-get install -y -q podman debootstrap >/dev/null \
	  || { apt-get update -q >/dev/null && $(APT_ENV) apt-get install -y -q podman debootstrap >/dev/null; }; \
	fi
	@# the broker Job makes the logins through the management API, as it would in a cluster
	@if command -v rabbitmq-plugins >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	    && ! rabbitmq-plugins list -e -m 2>/dev/null | grep -qx rabbitmq_management; then \
	  echo "enabling RabbitMQ's management plugin"; rabbitmq-plugins enable rabbitmq_management >/dev/null; \
	fi

image: podman-tools ## build the MES image with podman (its Python base image first, from Debian packages)
	@podman image exists $(PYTHON_IMAGE) || IMAGE=$(PYTHON_IMAGE) bash docker/build-base-image.sh
	@start=$$(date +%s); \
	podman build --format docker $(PODMAN_LIMITS) --network host \
	  $$( [ -f $(CA_BUNDLE) ] && echo "-v $(CA_BUNDLE):$(CA_BUNDLE):ro --build-arg PIP_CERT=$(CA_BUNDLE)" ) \
	  --build-arg PYTHON_IMAGE=$(PYTHON_IMAGE) -t $(IMAGE) . >.image-build.log 2>&1 \
	  || { tail -30 .image-build.log; exit 1; }; \
	echo "built $(IMAGE) in $$(( $$(date +%s) - start )) s: $$(podman image inspect $(IMAGE) --format '{{.Size}}' \
	  | awk '{printf "%.0f MB", $$1 / 1e6}')"

container-test: venv infra image ## every process as a container of the image, the README flows through it
	MES_CONTAINER_TEST=1 MES_IMAGE=$(IMAGE) $(BIN)/pytest -p no:randomly -q -s tests/containers $(PYTEST_ARGS)

test-fast: venv ## the tests that need no server (domain rules, route tables, architecture): seconds
	$(BIN)/pytest -m fast -q $(PYTEST_ARGS)

bench: venv infra ## run every bench/*.py script in turn (they print figures)
	@set -e; found=0; for script in bench/*.py; do \
	  [ -e "$$script" ] || continue; \
	  case "$$(basename "$$script")" in _*) continue;; esac; \
	  found=1; echo "=== $$script"; $(BIN)/python "$$script"; \
	done; [ $$found = 1 ] || echo "no benchmark in bench/ yet"

clean: ## remove caches and build output (keeps .venv)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache .hypothesis build dist *.egg-info

distclean: clean ## also remove .venv
	rm -rf $(VENV)
