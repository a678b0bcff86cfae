"""Reading NIR graphs into plain node records, independent of the installed ``nir`` version.

A NIR graph reaches the importer either as an ``.nir`` (HDF5) file or as a ``nir.NIRGraph`` object built
by an exporter. Both become a :class:`GraphSpec` of :class:`NodeSpec` records (type name + parameter
arrays), read without ``nir``'s own classes so that

* files written by nir 1.0.4 (no ``v_reset`` on LIF/IF/CubaLIF: it defaults to 0, as nir 1.0.8 does)
  and by nir 1.0.8 read alike, and objects from either version work (missing attributes take the same
  defaults);
* scalar parameters reach the importer unchanged and are broadcast there (nir's own type check
  rejects some scalars before any backend sees them);
* nested graphs are flattened: node ``n`` of subgraph ``sub`` becomes ``sub.n``; the subgraph's
  Input/Output nodes become pass-through nodes; an edge to ``sub`` enters its Input node(s) and an edge
  from ``sub`` leaves its Output node(s); an edge to ``sub.x`` names the inner node directly.

Every file-level problem (missing, empty, truncated or not HDF5, not a NIR graph, an unknown node type,
a missing or non-numeric parameter) raises :class:`aimc_sim.errors.DataError` naming the file and node.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import DataError

# node type -> (required parameters, optional parameters with their default)
SCHEMA: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "Input": ((), {"shape": None}),
    "Output": ((), {"shape": None}),
    "Affine": (("weight", "bias"), {}),
    "Linear": (("weight",), {}),
    "Scale": (("scale",), {}),
    "Flatten": ((), {"start_dim": 0, "end_dim": -1, "input_type": None}),
    "Conv1d": (("weight",), {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": None, "input_shape": None}),
    "Conv2d": (("weight",), {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": None, "input_shape": None}),
    "SumPool2d": (("kernel_size",), {"stride": None, "padding": 0}),
    "AvgPool2d": (("kernel_size",), {"stride": None, "padding": 0}),
    "Delay": (("delay",), {}),
    "Threshold": (("threshold",), {}),
    "I": (("r",), {}),
    "IF": (("r", "v_threshold"), {"v_reset": None}),
    "LI": (("tau", "r", "v_leak"), {}),
    "LIF": (("tau", "r", "v_leak", "v_threshold"), {"v_reset": None}),
    "CubaLI": (("tau_syn", "tau_mem", "r", "v_leak"), {"w_in": 1.0}),
    "CubaLIF": (("tau_syn", "tau_mem", "r", "v_leak", "v_threshold"), {"v_reset": None, "w_in": 1.0}),
}
_TEXT_PARAMS = {"padding"}  # may be the strings "same" / "valid"


@dataclass(frozen=True)
class NodeSpec:
    """One NIR node: its type name and parameters (numpy arrays, ints or strings)."""

    kind: str
    params: dict[str, Any]


@dataclass
class GraphSpec:
    """A flat NIR graph: nodes by name, edges, and where it came from (for error messages)."""

    nodes: dict[str, NodeSpec]
    edges: list[tuple[str, str]]
    source: str = "graph"
    metadata: dict[str, Any] = field(default_factory=dict)


def load_graph(graph: Any) -> GraphSpec:
    """A :class:`GraphSpec` from a path to an ``.nir`` file, a ``nir.NIRGraph`` object or a GraphSpec."""
    if isinstance(graph, GraphSpec):
        return graph
    if isinstance(graph, (str, Path)):
        return read_file(Path(graph))
    if type(graph).__name__ != "NIRGraph":
        raise DataError("graph", f"must be an .nir file path or a nir.NIRGraph, got {type(graph).__name__}")
    nodes, edges = _flatten_object(graph, "graph")
    return GraphSpec(nodes, edges, "graph", dict(getattr(graph, "metadata", {}) or {}))


# --------------------------------------------------------------------------- files
def read_file(path: Path) -> GraphSpec:
    """Read an ``.nir`` HDF5 file (nir 1.0.4 or 1.0.8 layout)."""
    import h5py

    src = str(path)
    if not path.is_file():
        raise DataError(src, "NIR file not found")
    if path.stat().st_size == 0:
        raise DataError(src, "NIR file is empty")
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f:
                raise DataError(src, "not a NIR file: no top-level 'node' group (written by nir.write?)")
            nodes, edges = _flatten_group(f["node"], src, "")
            meta = _metadata(f["node"])
    except DataError:
        raise
    except OSError as e:
        raise DataError(src, f"cannot read as HDF5 (truncated or not an .nir file): {e}") from None
    return GraphSpec(nodes, edges, src, meta)


def _metadata(group: Any) -> dict[str, Any]:
    if "metadata" not in group:
        return {}
    return {k: _text(v[()]) for k, v in group["metadata"].items() if hasattr(v, "shape")}


def _text(v: Any) -> Any:
    return v.decode("utf8") if isinstance(v, bytes) else v


def _group_kind(group: Any, src: str, where: str) -> str:
    if "type" not in group:
        raise DataError(src, f"node {where or '(root)'}: not a NIR node (no 'type' entry)")
    return str(_text(group["type"][()]))


def _flatten_group(group: Any, src: str, prefix: str) -> tuple[dict[str, NodeSpec], list[tuple[str, str]]]:
    kind = _group_kind(group, src, prefix.rstrip("."))
    if kind != "NIRGraph":
        raise DataError(src, f"root node is a {kind}, not a NIRGraph")
    if "nodes" not in group or "edges" not in group:
        raise DataError(src, f"graph {prefix.rstrip('.') or '(root)'}: needs 'nodes' and 'edges'")
    raw: dict[str, Any] = {}
    for name, sub in group["nodes"].items():
        k = _group_kind(sub, src, prefix + name)
        if k == "NIRGraph":
            raw[name] = _flatten_group(sub, src, prefix + name + ".")
            continue
        params = {}
        for key, ds in sub.items():
            if key in ("type", "metadata"):
                continue
            if key == "input_type" and hasattr(ds, "keys"):  # nir 1.0.8 Flatten writes a group
                params[key] = next((d[()] for d in ds.values()), None)
            elif hasattr(ds, "shape"):
                params[key] = _text(ds[()])
        raw[name] = _node(k, params, src, prefix + name)
    try:
        edges = [(str(_text(a)), str(_text(b))) for a, b in group["edges"][()]]
    except (TypeError, ValueError):
        raise DataError(src, f"graph {prefix.rstrip('.') or '(root)'}: edges must be (source, target) pairs") from None
    return _merge(raw, edges, src, prefix)


# --------------------------------------------------------------------------- objects
def _object_params(node: Any) -> dict[str, Any]:
    """Parameters of a nir node object (any nir version): its dataclass fields, tensors as arrays."""
    names = [f.name for f in fields(node)] if is_dataclass(node) else list(vars(node))
    out = {}
    for name in names:
        if name in ("metadata", "output_type"):
            continue
        v = getattr(node, name, None)
        if name == "input_type" and isinstance(v, dict):
            v = next(iter(v.values()), None)
        out[name] = v.detach().cpu().numpy() if hasattr(v, "detach") else v
    if type(node).__name__ == "Input":
        out = {"shape": out.get("input_type")}
    elif type(node).__name__ == "Output":
        ot = getattr(node, "output_type", None)
        out = {"shape": next(iter(ot.values()), None) if isinstance(ot, dict) else ot}
    return out


def _flatten_object(graph: Any, src: str, prefix: str = "") -> tuple[dict[str, NodeSpec], list[tuple[str, str]]]:
    raw: dict[str, Any] = {}
    for name, node in dict(graph.nodes).items():
        kind = type(node).__name__
        if kind == "NIRGraph":
            raw[name] = _flatten_object(node, src, prefix + name + ".")
        else:
            raw[name] = _node(kind, _object_params(node), src, prefix + name)
    return _merge(raw, [tuple(e) for e in graph.edges], src, prefix)


# --------------------------------------------------------------------------- shared
def _node(kind: str, params: dict[str, Any], src: str, where: str) -> NodeSpec:
    """Check a node against :data:`SCHEMA`: known type, required fields present and numeric."""
    if kind not in SCHEMA:
        raise DataError(src, f"node {where}: unsupported NIR node type {kind}; supported: {', '.join(SCHEMA)}")
    required, optional = SCHEMA[kind]
    if kind in ("Input", "Output") and "shape" not in params:  # nir 1.0.4 objects: input_type / output_type
        params = {"shape": params.get("input_type", params.get("output_type"))}
    out: dict[str, Any] = {}
    for key in required:
        if params.get(key) is None:
            raise DataError(src, f"node {where}: {kind} needs parameter '{key}'")
    for key in (*required, *optional):
        v = params.get(key, optional.get(key))
        if v is None:
            out[key] = None
            continue
        if isinstance(v, str):
            if key in _TEXT_PARAMS:
                out[key] = v
                continue
            raise DataError(src, f"node {where}: parameter '{key}' must be numeric, got the string {v!r}")
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise DataError(src, f"node {where}: parameter '{key}' must be numeric, got {v!r}") from None
        out[key] = a
    return NodeSpec(kind, out)


def _merge(raw: dict[str, Any], edges: list, src: str, prefix: str) -> tuple[dict[str, NodeSpec], list]:
    """Flatten subgraphs (tuples of nodes, edges) into ``raw`` with dotted names and rewire edges."""
    nodes: dict[str, NodeSpec] = {}
    entry: dict[str, list[str]] = {}
    exit_: dict[str, list[str]] = {}
    out_edges: list[tuple[str, str]] = []
    for name, item in raw.items():
        full = prefix + name
        if isinstance(item, NodeSpec):
            nodes[full] = item
            continue
        sub_nodes, sub_edges = item
        for sn, spec in sub_nodes.items():
            is_io = spec.kind in ("Input", "Output")  # deeper levels were already made Identity
            nodes[sn] = NodeSpec("Identity", {"shape": spec.params.get("shape")}) if is_io else spec
            if is_io:
                (entry if spec.kind == "Input" else exit_).setdefault(full, []).append(sn)
        out_edges += sub_edges
    for a, b in edges:
        a, b = str(a), str(b)
        srcs = exit_.get(prefix + a, [prefix + a])
        dsts = entry.get(prefix + b, [prefix + b])
        for end in (*srcs, *dsts):
            if end not in nodes:
                raise DataError(src, f"edge ({a!r}, {b!r}) refers to unknown node {end!r}")
        out_edges += [(s, d) for s in srcs for d in dsts]
    return nodes, out_edges
