"""Where an entry point writes its outputs (shared by solve.py and softness.py)."""

from __future__ import annotations

from pathlib import Path


def resolve_output_dir(output_dir: str | Path | None = None) -> Path:
    """``output_dir`` if given, else the Hydra run directory (``.`` outside Hydra); created."""
    if output_dir is None:
        try:
            from hydra.core.hydra_config import HydraConfig

            output_dir = HydraConfig.get().runtime.output_dir
        except (ImportError, ValueError):
            output_dir = "."
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    return out
