"""Sweep results out: a pandas DataFrame, an xarray Dataset, CSV or Parquet files.

Reads a :class:`~aimc_sim.sweep.store.ResultTable` (``load_results``) through its public attributes only.
One row per point and seed; swept parameters are named by their dotted path (``hardware.tile.adc.bits``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from aimc_sim.errors import ConfigError, DataError

if TYPE_CHECKING:
    from aimc_sim.sweep.store import ResultTable

__all__ = ["to_pandas", "to_xarray", "export_results", "FORMATS", "sweep_dimensions"]

_BOOKKEEPING = ("hash", "rng_seed", "wall_s")
FORMATS = {".csv": "CSV", ".parquet": "Parquet (needs pyarrow or fastparquet)"}


def to_pandas(table: ResultTable, *, config: bool = False) -> Any:
    """A :class:`pandas.DataFrame`, one row per point and seed.

    Columns: the swept parameters (dotted paths, ``param/`` dropped unless a result column has the same
    name), ``seed``, every result column, then
    ``hash``, ``rng_seed``, ``wall_s`` (and the resolved ``config`` as JSON if ``config``). Numbers keep
    their HDF5 dtypes (int64, float64; NaN for missing), strings are Python ``str``.
    """
    import pandas as pd

    names = [*table.params, "seed", *table.metrics, *_BOOKKEEPING, *(("config",) if config else ())]
    return pd.DataFrame({_name(table, n): table.columns[n] for n in names if n in table.columns})


def _name(table: ResultTable, column: str) -> str:
    """A parameter's dotted path, or ``param/<path>`` if a result column has the same name."""
    short = column.removeprefix("param/")
    return column if short != column and short in table.columns else short


def sweep_dimensions(table: ResultTable) -> tuple[list[str], dict[str, str]]:
    """The dimensions of the sweep and the parameters that ride along another's dimension.

    A grid axis gives one dimension per parameter; a zip or random axis steps its parameters together, so
    its first parameter (in the spec's order) is the dimension and the others are coordinates on it
    (returned as {param: dim}).
    Parameters missing from the stored spec (old files) each get their own dimension.
    """
    swept = [_name(table, p) for p in table.params]
    try:
        axes = table.spec.get("axes", [])
    except (KeyError, ValueError, TypeError):
        axes = []
    dims: list[str] = []
    along: dict[str, str] = {}
    for axis in axes:
        in_axis = {_name(table, f"param/{p}") for p in axis.get("params", {})}
        params = [p for p in swept if p in in_axis]  # the columns keep the spec's order (the stored spec is sorted)
        if not params:
            continue
        if axis.get("kind", "grid") == "grid":
            dims += params
        else:
            dims.append(params[0])
            along.update({p: params[0] for p in params[1:]})
    dims += [p for p in swept if p not in dims and p not in along]
    return dims, along


def to_xarray(table: ResultTable) -> Any:
    """An :class:`xarray.Dataset` with the sweep axes and ``seed`` as dimensions and one variable per result
    column (NaN where a combination was not run). Parameters stepped with another (zip axes) are coordinates
    on that parameter's dimension; ``hash`` and ``wall_s`` are variables too. The file's attributes are kept."""
    frame = to_pandas(table)
    dims, along = sweep_dimensions(table)
    index = [*dims, "seed"]
    if frame.duplicated(index).any():
        raise DataError("results", f"rows repeat the same combination of {', '.join(index)}; cannot form a grid")
    ds = frame.drop(columns=list(along)).set_index(index).to_xarray()
    for param, dim in along.items():
        pairs = frame.drop_duplicates(dim).set_index(dim)[param]
        ds = ds.assign_coords({param: (dim, pairs.reindex(ds[dim].values).to_numpy())})
    ds.attrs.update({k: v for k, v in table.attrs.items() if isinstance(v, (str, int, float, bool))})
    return ds


def export_results(table: ResultTable, output: str | Path, *, config: bool = False) -> Path:
    """Write ``table`` as CSV or Parquet (by the suffix of ``output``), one row per point and seed.

    CSV floats are written with 17 significant digits, so ``pandas.read_csv`` gives back the HDF5 numbers
    bit for bit.
    """
    output = Path(output)
    if output.suffix not in FORMATS:
        allowed = ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
        raise ConfigError("output", f"unknown format {output.suffix or '(no suffix)'!r}; use {allowed}")
    frame = to_pandas(table, config=config)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    if output.suffix == ".csv":
        frame.to_csv(tmp, index=False, float_format="%.17g")
    else:
        try:
            frame.to_parquet(tmp, index=False)
        except ImportError as e:
            raise ConfigError("output", f"Parquet needs pyarrow or fastparquet ({e}); write .csv instead") from None
    tmp.replace(output)
    return output
