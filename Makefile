# Thin wrappers; the work is in scripts/ and the `eq-negotiator` command.
VENV := .venv
PY := $(VENV)/bin/python
EQ := $(VENV)/bin/eq-negotiator

.PHONY: setup test test-fast doctor demo bench bench-latency freeze clean

setup:
	bash scripts/setup.sh

test: $(PY)
	bash scripts/test.sh

# Pure-logic tests only (no models, no ROS middleware): seconds instead of minutes.
test-fast: $(PY)
	bash scripts/test.sh -m "not integration"

doctor: $(PY)
	$(EQ) doctor

demo: $(PY)
	$(EQ) demo --max-turns 4 --out runs/demo

bench: $(PY)
	$(EQ) bench --policies all --personas all --episodes 60 --seed 1 --workers 2 --out runs/bench

bench-latency: $(PY)
	$(EQ) bench-latency --turns 5

# Pin every package now in the venv (after a deliberate upgrade).
freeze: $(PY)
	$(PY) -m pip freeze --exclude-editable | grep -v '^eq.negotiator' | sed '1i # Every package of the venv, pinned (regenerate: make freeze).' > requirements/constraints.txt

$(PY):
	@echo "No virtual environment at $(VENV): run 'make setup' first." >&2; exit 1

clean:
	rm -rf build/colcon build/colcon-log .pytest_cache
