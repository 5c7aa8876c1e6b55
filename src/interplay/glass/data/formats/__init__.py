"""Dataset formats behind one reader registry (contract: :mod:`.formats._registry`'s docstring).

One module per format, registered below; :func:`interplay.glass.data.load` and the DataModules
ask the registry (:func:`reader_for` a file, :func:`get_reader` by name) and never branch on
the format. Adding a format: subclass :class:`Reader` in a new module, add one
``register_reader(...)`` line here, and a ``conf/data/<group>.yaml`` with
``file_format: <name>``.

    from interplay.glass.data.formats import Reader, register_reader

The helpers every reader needs (:func:`open_npz`, :func:`require_keys`,
:func:`propensity_from_runs`, :func:`propensity_and_halves`, :func:`join_halves`,
:func:`wrap_into_box`) are re-exported here from
:mod:`interplay.glass.data._configuration`, so that a reader written anywhere needs no private
name.
"""

from interplay.glass.data._configuration import (
    join_halves,
    open_npz,
    propensity_and_halves,
    propensity_from_runs,
    require_keys,
    wrap_into_box,
)
from interplay.glass.data._tau_alpha import TauAlpha
from interplay.glass.data.formats._bapst import BapstReader
from interplay.glass.data.formats._botan import BotanReader, merge_time_indices
from interplay.glass.data.formats._glassbench import KNOWN_TIMES, GlassBenchReader
from interplay.glass.data.formats._registry import (
    Reader,
    data_suffixes,
    get_reader,
    reader_for,
    readers,
    register_reader,
    unregister_reader,
)

# Registration order is the order of load_directory's output for a directory of mixed formats.
register_reader(BotanReader())  # Shiba et al. 2023: isoconfig_N{N}T{T}_{i}_tc{XX}.npz
register_reader(BapstReader())  # Bapst et al. 2020: pickled dicts
register_reader(GlassBenchReader())  # Jung et al. roadmap and ka3d: any other .npz

__all__ = [
    "KNOWN_TIMES",
    "BapstReader",
    "BotanReader",
    "GlassBenchReader",
    "Reader",
    "TauAlpha",
    "data_suffixes",
    "get_reader",
    "merge_time_indices",
    "open_npz",
    "join_halves",
    "propensity_and_halves",
    "propensity_from_runs",
    "reader_for",
    "readers",
    "register_reader",
    "require_keys",
    "unregister_reader",
    "wrap_into_box",
]
