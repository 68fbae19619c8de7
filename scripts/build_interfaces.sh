#!/usr/bin/env bash
# Builds eq_negotiator_interfaces with colcon and installs it into the virtual environment's prefix,
# so `import eq_negotiator_interfaces` works in the venv with no `source install/setup.bash`
# (the ros-wheels bootstrapper already puts $VIRTUAL_ENV/lib on LD_LIBRARY_PATH).
set -euo pipefail
VENV=${VENV:-.venv}
VENV=$(cd "$VENV" && pwd)
PY="$VENV/bin/python"

# The message wheels export CMake targets that name the wheel builder's Python and numpy include
# directories; point them at this venv's, or every generated typesupport fails to compile.
PY_INC=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
NP_INC=$("$PY" -c 'import numpy; print(numpy.get_include())')
# (grep finds nothing once they are fixed: a rebuild must not stop there.)
{ grep -rlE '/opt/python/cp3[0-9]+-cp3[0-9]+/' "$VENV"/share/*/cmake/*.cmake 2>/dev/null || true; } | while read -r f; do
  sed -i -E "s#/opt/python/cp3[0-9]+-cp3[0-9]+/include/python3\.[0-9]+#${PY_INC}#g; s#/opt/python/cp3[0-9]+-cp3[0-9]+/lib/python3\.[0-9]+/site-packages/numpy/_core/include#${NP_INC}#g" "$f"
done

export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" PATH="$VENV/bin:$PATH"
"$VENV/bin/colcon" --log-base build/colcon-log build \
  --base-paths eq_negotiator_interfaces \
  --build-base build/colcon \
  --install-base "$VENV" --merge-install \
  --event-handlers console_direct- \
  --cmake-args -DPython3_EXECUTABLE="$PY" -DBUILD_TESTING=OFF -Wno-dev
