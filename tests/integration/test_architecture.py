"""The package's shape holds: layer contracts (import-linter), no private names imported across
modules, no ``matplotlib.use`` at import time, and every public API resolves."""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys

import pytest
from helpers import ROOT

SRC = ROOT / "src" / "interplay"
MODULES = sorted(SRC.rglob("*.py"))


def _module_name(path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_name_is_imported_from_another_module(path):
    tree = ast.parse(path.read_text())
    offenders = [
        f"line {node.lineno}: from {node.module} import {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__"
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert not offenders, f"{path.name} imports private names: {offenders}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_matplotlib_backend_chosen_at_import_time(path):
    tree = ast.parse(path.read_text())
    for node in tree.body:  # module level only: inside functions it is a deliberate choice
        call = node.value if isinstance(node, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            target = ast.unparse(call.func)
            assert target != "matplotlib.use", f"{path.name}:{node.lineno} calls {target}"


PACKAGES = sorted({_module_name(p) for p in SRC.rglob("__init__.py")})


@pytest.mark.parametrize("package", PACKAGES)
def test_public_api_resolves(package):
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which is not defined"


def test_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_package_imports_without_lightning_for_nn():
    """``interplay.glass.nn`` is torch only: importing it loads neither Lightning nor Hydra."""
    code = (
        "import sys, interplay.glass.nn\n"
        "bad = [m for m in ('lightning', 'hydra', 'omegaconf') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
