"""Glassy dynamics from structure (thesis chapter 2), in layers -- each may import only the
ones below it (enforced by import-linter, see pyproject.toml):

* :mod:`~interplay.glass.analysis` -- observables (Pearson, χ4, G4), figures, temperature
  transfer, model comparison;
* :mod:`~interplay.glass.models` -- LightningModules: one :class:`PropensityBase` and thin
  subclasses that receive their network;
* :mod:`~interplay.glass.nn` -- torch modules only: radial basis, mixing, SE(3) layers,
  tensor-product kernels, the SE(3)-GNN, the Bapst GNN, structural descriptors;
* :mod:`~interplay.glass.data` -- configurations, dataset formats behind a reader registry,
  periodic graphs, splits, DataModules, inherent structures;
* :mod:`~interplay.glass.simulation` -- the LAMMPS pipeline that makes KA data.
"""
