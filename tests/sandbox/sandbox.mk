# The sandbox cluster (tests/sandbox/): included by the top-level Makefile.
#   make sandbox-up      build the control plane the first time (cached in ~/.cache), start it; no-op when up
#   make sandbox-down    stop the processes the launcher recorded (by pid) and forget the runtime state
#   make sandbox-status  show the processes and readiness; exit 0 only when up
SANDBOX_LAUNCHER := tests/sandbox/sandbox.py
# `down`/`status` need only the standard library: they work even before (or without) the venv.
SANDBOX_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)

.PHONY: sandbox-up sandbox-down sandbox-status sandbox-build sandbox-reseed

sandbox-up: venv system-packages
	$(BIN)/python $(SANDBOX_LAUNCHER) up

sandbox-down:
	$(SANDBOX_PYTHON) $(SANDBOX_LAUNCHER) down

sandbox-status:
	@$(SANDBOX_PYTHON) $(SANDBOX_LAUNCHER) status

# Build (or find) the cached binaries without starting anything.
sandbox-build:
	$(SANDBOX_PYTHON) $(SANDBOX_LAUNCHER) build

# Put the seeded OpenShift objects (pull secret, pools, CRDs, image roles) back as they were at start.
sandbox-reseed: venv
	$(BIN)/python $(SANDBOX_LAUNCHER) seed --reset
