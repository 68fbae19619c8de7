#!/usr/bin/env bash
# `make test`: the whole suite, real models and real ROS 2 middleware included.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || { echo "No virtual environment at .venv: run 'make setup' first." >&2; exit 1; }
# Keep DDS traffic on this machine and away from other ROS graphs running here.
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID=${ROS_DOMAIN_ID:-$(( (RANDOM % 100) + 100 ))}
export HF_HUB_OFFLINE=1
# With test paths among the arguments only those run; without, the whole suite.
has_path=false
for arg in "$@"; do [ -e "${arg%%::*}" ] && has_path=true; done
$has_path || set -- eq_negotiator_ros/test "$@"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
