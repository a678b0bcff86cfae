"""YAML -> frozen, validated dataclasses. The mechanism is :mod:`device_models.schema`.

Hardware configs of the engine (tiles, periphery, cost models) are defined next to the code that
uses them (``aimc_sim.crossbar.config``, ``aimc_sim.cost``) and all derive from :class:`Config`.
"""

from device_models.schema import (
    Config,
    check,
    from_dict,
    in_range,
    int_in,
    load_yaml,
    nonnegative,
    one_of,
    positive,
    read_yaml,
    require_finite,
    to_dict,
)

__all__ = [
    "Config",
    "check",
    "from_dict",
    "in_range",
    "int_in",
    "load_yaml",
    "nonnegative",
    "one_of",
    "positive",
    "read_yaml",
    "require_finite",
    "to_dict",
]
