"""The one plotting style: no matplotlib at import time, Agg only when headless, atomic PNGs."""

from __future__ import annotations

from helpers import run_script

from interplay.core import new_figure, pyplot, save_figure


def test_importing_figure_modules_chooses_no_backend_and_headless_means_agg():
    # Lightning's torchmetrics imports pyplot itself; what matters is that no backend is chosen
    # (no matplotlib.use) until a figure is drawn, and that core and the toy need no matplotlib.
    code = (
        "import sys\n"
        "import interplay.core, interplay.softness_toy\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at import time'\n"
        "import interplay.imbalance.figures, interplay.imbalance.montecarlo\n"
        "import matplotlib\n"
        "assert matplotlib.rcParams._get_backend_or_none() is None, 'backend chosen on import'\n"
        "from interplay.core import pyplot\n"
        "assert pyplot().get_backend().lower() == 'agg'\n"
    )
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "MPLBACKEND": ""}
    run_script(["-c", code], env=env)


def test_a_chosen_backend_is_kept():
    code = "from interplay.core import pyplot\nprint(pyplot().get_backend())\n"
    proc = run_script(["-c", code], env={"DISPLAY": "", "MPLBACKEND": "svg"})
    assert proc.stdout.strip().lower() == "svg"


def test_save_figure_writes_atomically_and_closes(tmp_path):
    plt = pyplot()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_figure(fig, tmp_path / "sub" / "a.png", dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["a.png"]  # no temporary file left
    assert fig.number not in plt.get_fignums()


def test_new_figure_stays_out_of_pyplot(tmp_path):
    fig, ax = new_figure((2.0, 2.0))
    ax.plot([0, 1], [0, 1])
    save_figure(fig, tmp_path / "b.pdf", dpi=50)
    assert (tmp_path / "b.pdf").read_bytes()[:4] == b"%PDF"
    assert getattr(fig.canvas, "manager", None) is None  # pyplot never saw it
