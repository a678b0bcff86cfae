"""PyTorch ``nn.Module`` -> :class:`workloads.network.graph.Network`, traced with ``torch.fx``.

``from_torch(module, example_input)`` traces the module symbolically (custom modules are traced through;
torch's own layers stay leaves), propagates ``example_input`` to learn every tensor's shape, and maps each
leaf to an op of :mod:`workloads.network.ops`. The project's S4D stack and snnTorch ``Leaky`` / ``RLeaky`` stay
leaves too and become sequence or spiking layers (:mod:`workloads.network.torch_layers`). The module is
evaluated in inference mode (BatchNorm uses its running statistics, Dropout is dropped); its training flag is
restored afterwards. Layers are named by their
path in the model (``features.0``), functions by their fx node name (``add_1``). Anything else raises a
:class:`DataError` naming the layer, its type and its path. torch is imported only here.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError, DataError
from workloads.network.graph import INPUT, Identity, Network, Node
from workloads.network.ops import (
    Activation,
    ChannelAffine,
    Concat,
    Conv,
    Elementwise,
    Embedding,
    LayerNorm,
    Linear,
    Pool,
    Reduce,
    Reshape,
    Softmax,
)
from workloads.network.torch_layers import leaf_converter


def _torch() -> Any:
    try:
        import torch
        import torch.fx  # noqa: F401
    except ImportError:
        raise ConfigError("torch", "PyTorch is not installed; `pip install torch` to convert nn.Modules") from None
    return torch


def _np(t: Any) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().numpy().astype(np.float32)


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(a) for a in v) if isinstance(v, (tuple, list)) else (int(v),) * n


def _unsupported(path: str, what: str, why: str = "is not supported") -> DataError:
    return DataError(f"layer {path!r} ({what})", why)


def _module_op(path: str, mod: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Any:
    """The op of one torch leaf module."""
    nn = _torch().nn
    name = type(mod).__name__
    if isinstance(mod, nn.Linear):
        return Linear(_np(mod.weight), _np(mod.bias))
    if isinstance(mod, (nn.Conv1d, nn.Conv2d)):
        nd = 1 if isinstance(mod, nn.Conv1d) else 2
        if mod.padding_mode != "zeros":
            raise _unsupported(path, name, f"padding_mode {mod.padding_mode!r}: only 'zeros' is supported")
        pad = mod.padding
        if isinstance(pad, str):
            if pad == "same" and any(k % 2 == 0 for k in mod.kernel_size):
                raise _unsupported(path, name, "padding='same' with an even kernel is not supported")
            pad = tuple(d * (k - 1) // 2 for k, d in zip(mod.kernel_size, mod.dilation)) if pad == "same" else 0
        geometry = _tuple(mod.stride, nd), _tuple(pad, nd), _tuple(mod.dilation, nd)
        return Conv(_np(mod.weight), _np(mod.bias), *geometry, mod.groups)
    if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if mod.running_mean is None:
            raise _unsupported(path, name, "has no running statistics (track_running_stats=False)")
        scale = _np(mod.weight) if mod.affine else np.ones(mod.num_features, np.float32)
        shift = _np(mod.bias) if mod.affine else np.zeros(mod.num_features, np.float32)
        inv = scale.astype(np.float64) / np.sqrt(mod.running_var.detach().cpu().numpy().astype(np.float64) + mod.eps)
        return ChannelAffine(inv, shift - mod.running_mean.detach().cpu().numpy() * inv)
    activations = {nn.ReLU: "relu", nn.SiLU: "silu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
    for cls, act in activations.items():
        if isinstance(mod, cls):
            return Activation(act)
    if isinstance(mod, nn.GELU):
        if mod.approximate != "none":
            raise _unsupported(path, name, f"approximate={mod.approximate!r}: only the exact (erf) GELU is supported")
        return Activation("gelu")
    if isinstance(mod, (nn.Softmax, nn.LogSoftmax)):
        return Softmax(-1 if mod.dim is None else mod.dim, isinstance(mod, nn.LogSoftmax))
    if isinstance(mod, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        nd = 1 if isinstance(mod, (nn.MaxPool1d, nn.AvgPool1d)) else 2
        if mod.ceil_mode or (getattr(mod, "dilation", 1) not in (1, (1, 1))):
            raise _unsupported(path, name, "ceil_mode and dilation are not supported")
        if getattr(mod, "divisor_override", None) is not None:
            raise _unsupported(path, name, "divisor_override is not supported")
        kernel = _tuple(mod.kernel_size, nd)
        stride = _tuple(mod.stride if mod.stride is not None else kernel, nd)
        mode = "max" if "Max" in name else "avg"
        return Pool(mode, kernel, stride, _tuple(mod.padding, nd), getattr(mod, "count_include_pad", True), nd)
    if isinstance(mod, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d)):
        return _adaptive(path, name, "max" if "Max" in name else "avg", in_shape, out_shape)
    if isinstance(mod, (nn.Flatten, nn.Unflatten)):
        return Reshape(out_shape)
    if isinstance(mod, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.AlphaDropout, nn.Identity)):
        return Identity()
    if isinstance(mod, nn.LayerNorm):
        shape = tuple(mod.normalized_shape)
        w = _np(mod.weight) if mod.weight is not None else np.ones(shape, np.float32)
        b = _np(mod.bias) if mod.bias is not None else np.zeros(shape, np.float32)
        return LayerNorm(w, b, float(mod.eps))
    if isinstance(mod, nn.Embedding):
        return Embedding(_np(mod.weight))
    raise _unsupported(path, name)


def _adaptive(path: str, what: str, mode: str, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Pool:
    spatial_in, spatial_out = in_shape[1:], out_shape[1:]
    if all(o == 1 for o in spatial_out):
        return Pool(mode, None, n_dims=len(spatial_in))
    if any(i % o for i, o in zip(spatial_in, spatial_out)):
        raise _unsupported(path, what, f"output size {spatial_out} does not divide the input size {spatial_in}")
    k = tuple(i // o for i, o in zip(spatial_in, spatial_out))
    return Pool(mode, k, k, (0,) * len(k), True, len(k))


def _layer_function(node: Any, const: dict[Any, np.ndarray]) -> Any:
    """``F.linear`` / ``F.conv1d`` / ``F.conv2d`` / ``x @ W`` with parameters of the module (get_attr), or None."""
    torch = _torch()
    F = torch.nn.functional
    target, args, kw = node.target, node.args, node.kwargs

    def param(i: int, key: str) -> np.ndarray | None:
        v = kw.get(key, args[i] if len(args) > i else None)
        if v is not None and v not in const:
            raise _unsupported(node.name, str(getattr(target, "__name__", target)), f"{key} must be a parameter")
        return None if v is None else const[v]

    if target is F.linear:
        return Linear(param(1, "weight"), param(2, "bias"))
    if target in (operator.matmul, torch.matmul) and args[1] in const and const[args[1]].ndim == 2:
        return Linear(np.ascontiguousarray(const[args[1]].T))
    if target in (F.conv1d, F.conv2d):
        nd = 1 if target is F.conv1d else 2
        geometry = [kw.get(k, args[i] if len(args) > i else d) for i, k, d in ((3, "stride", 1), (4, "padding", 0))]
        geometry.append(kw.get("dilation", args[5] if len(args) > 5 else 1))
        if isinstance(geometry[1], str):
            raise _unsupported(node.name, target.__name__, "string padding is not supported in the functional form")
        groups = int(kw.get("groups", args[6] if len(args) > 6 else 1))
        return Conv(param(1, "weight"), param(2, "bias"), *(_tuple(g, nd) for g in geometry), groups)
    return None


def _function_op(node: Any, shape_of: Any, const: dict[Any, np.ndarray]) -> tuple[Any, tuple[Any, ...]]:
    """(op, tensor arguments) of a call_function / call_method node; ``const`` holds the module's parameters
    and buffers read with get_attr."""
    torch = _torch()
    F = torch.nn.functional
    target, args, kwargs = node.target, node.args, node.kwargs
    fx_node = torch.fx.Node
    layer = _layer_function(node, const)
    if layer is not None:
        return layer, (args[0],)
    binary = {
        operator.add: "add", torch.add: "add", "add": "add",
        operator.sub: "sub", torch.sub: "sub", "sub": "sub",
        operator.mul: "mul", torch.mul: "mul", "mul": "mul",
        operator.truediv: "div", torch.div: "div", "div": "div",
    }  # fmt: skip
    if target in binary:
        a, b = args[0], args[1]
        if all(isinstance(v, fx_node) and v not in const for v in (a, b)):
            return Elementwise(binary[target]), (a, b)
        tensor, c = (a, b) if isinstance(a, fx_node) and a not in const else (b, a)
        value = const[c] if isinstance(c, fx_node) else np.asarray(c, np.float32)
        return Elementwise(binary[target], value, tensor is b), (tensor,)
    unary = {
        F.relu: "relu", torch.relu: "relu", "relu": "relu", F.gelu: "gelu", F.silu: "silu",
        torch.sigmoid: "sigmoid", "sigmoid": "sigmoid", F.sigmoid: "sigmoid",
        torch.tanh: "tanh", "tanh": "tanh", F.tanh: "tanh",
    }  # fmt: skip
    if target in unary:
        if kwargs.get("approximate", "none") != "none":
            raise _unsupported(node.name, str(target), "only the exact (erf) GELU is supported")
        return Activation(unary[target]), (args[0],)
    softmax = {F.softmax: False, torch.softmax: False, "softmax": False}
    softmax |= {F.log_softmax: True, torch.log_softmax: True, "log_softmax": True}
    if target in softmax:
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim is None:
            raise _unsupported(node.name, "softmax", "needs an explicit dim")
        return Softmax(int(dim), softmax[target]), (args[0],)
    pools = {F.max_pool1d: ("max", 1), F.max_pool2d: ("max", 2), F.avg_pool1d: ("avg", 1), F.avg_pool2d: ("avg", 2)}
    if target in pools:
        return _functional_pool(node, *pools[target]), (args[0],)
    if target in ("mean", "amax", "sum", torch.mean, torch.amax, torch.sum):
        dim = kwargs.get("dim", args[1] if len(args) > 1 else None)
        if dim is None:
            raise _unsupported(node.name, str(target), "needs explicit dims (reducing the batch axis is unsupported)")
        keep = bool(kwargs.get("keepdim", args[2] if len(args) > 2 else False))
        mode = {"mean": "avg", "amax": "max", "sum": "sum"}[target if isinstance(target, str) else target.__name__]
        return Reduce(mode, _tuple(dim, 1), keep), (args[0],)
    if target in (torch.cat, torch.concat):
        return Concat(int(kwargs.get("dim", args[1] if len(args) > 1 else 0))), tuple(args[0])
    if target in (torch.flatten, "flatten", "view", "reshape"):
        return Reshape(shape_of(node)), (args[0],)
    if target in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d):
        return _adaptive(node.name, str(target.__name__), "avg", shape_of(args[0]), shape_of(node)), (args[0],)
    if target in ("contiguous", F.dropout):
        return Identity(), (args[0],)
    what = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    raise _unsupported(node.name, str(what))


def _functional_pool(node: Any, mode: str, nd: int) -> Pool:
    """``F.max_pool2d(x, kernel_size, stride=None, padding=0, ...)`` and its 1-d / average siblings."""
    names = ("input", "kernel_size", "stride", "padding")
    a = dict(zip(names, node.args)) | {k: v for k, v in node.kwargs.items() if k in names}
    extra = {k: v for k, v in node.kwargs.items() if k not in names}
    if extra.get("ceil_mode") or extra.get("dilation", 1) not in (1, (1,) * nd) or extra.get("divisor_override"):
        raise _unsupported(node.name, f"{mode}_pool{nd}d", "ceil_mode, dilation and divisor_override are not supported")
    kernel = _tuple(a["kernel_size"], nd)
    stride = _tuple(a.get("stride") or kernel, nd)
    return Pool(mode, kernel, stride, _tuple(a.get("padding", 0), nd), extra.get("count_include_pad", True), nd)


def from_torch(module: Any, example_input: Any = None) -> Network:
    """Convert ``module`` (an ``nn.Module``) traced on ``example_input`` (a tensor of one batch, e.g.
    ``torch.zeros(1, 1, 8, 8)``) into a :class:`Network` that computes the same function in numpy."""
    torch = _torch()
    if not isinstance(module, torch.nn.Module):
        raise ConfigError("module", f"must be a torch.nn.Module, got {type(module).__name__}")
    if example_input is None:
        raise ConfigError(
            "example_input", "is required: one batch of inputs (e.g. torch.zeros(1, *input_shape)) to trace shapes"
        )
    if not isinstance(example_input, torch.Tensor):
        raise ConfigError("example_input", f"must be one torch.Tensor, got {type(example_input).__name__}")
    from torch.fx.passes.shape_prop import ShapeProp

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return leaf_converter(m) is not None or super().is_leaf_module(m, qualname)

    was_training = module.training
    module.eval()
    root = module
    if leaf_converter(module) is not None:  # the root is traced through: wrap it, named by its class
        root = torch.nn.Sequential(OrderedDict([(type(module).__name__, module)]))
    try:
        try:
            gm = torch.fx.GraphModule(root, Tracer().trace(root))
        except Exception as e:  # tracing runs user code: any failure is reported with its cause
            raise DataError("module", f"torch.fx could not trace it ({type(e).__name__}: {e})") from None
        with torch.no_grad():
            try:
                ShapeProp(gm).propagate(example_input)
            except Exception as e:
                raise DataError("example_input", f"the model fails on it ({type(e).__name__}: {e})") from None
        return _convert(gm, example_input, type(module).__name__)
    finally:
        module.train(was_training)


def _convert(gm: Any, example_input: Any, model_name: str) -> Network:
    torch = _torch()
    modules = dict(gm.named_modules())
    names: dict[Any, str] = {}
    nodes: list[Node] = []
    output = None
    const: dict[Any, np.ndarray] = {}
    params = dict(gm.named_parameters())

    def shape_of(n: Any) -> tuple[int, ...] | None:
        shape = getattr(n.meta.get("tensor_meta"), "shape", None)  # None for non-tensor values (tuples)
        return None if shape is None else tuple(shape[1:])

    for n in gm.graph.nodes:
        if n.op == "placeholder":
            if INPUT in names.values():
                raise DataError(f"input {n.name!r}", "only networks with one input are supported")
            names[n] = INPUT
            continue
        if n.op == "output":
            output = n.args[0]
            if not isinstance(output, torch.fx.Node):
                raise DataError("output", "only networks with one output tensor are supported")
            break
        if n.op == "get_attr":  # a parameter or buffer of the module, used by a function below
            const[n] = _np(gm.get_parameter(n.target) if n.target in params else gm.get_buffer(n.target))
            continue
        if n.op == "call_module" and leaf_converter(modules[n.target]) is not None:
            if len(n.args) != 1 or n.kwargs or n.args[0] not in names:
                raise _unsupported(n.target, type(modules[n.target]).__name__, "must be called on one tensor")
            layer_nodes = leaf_converter(modules[n.target])(
                n.target, modules[n.target], shape_of(n.args[0]), names[n.args[0]]
            )
            nodes += layer_nodes
            names[n] = layer_nodes[-1].name
            continue
        if n.target is operator.getitem and n.args[0] in names and n.args[0].op == "call_module":
            if n.args[1] != 0 and not n.users:
                continue  # an unused membrane output
            if n.args[1] != 0:  # (spk, mem) of an snnTorch neuron: the spikes only
                raise _unsupported(n.name, "getitem", f"only output 0 (spikes) of {n.args[0].target!r} is supported")
            names[n] = names[n.args[0]]
            continue
        if n.op == "call_module":
            mod = modules[n.target]
            src = n.args[0]
            op = _module_op(n.target, mod, shape_of(src), shape_of(n))
            inputs, name = (src,), n.target
        elif n.target == "size" or n.target is getattr:
            continue  # shape queries: their values only feed view/reshape, whose shapes come from the trace
        else:
            op, inputs = _function_op(n, shape_of, const)
            name = n.name
        missing = [a for a in inputs if a not in names]
        if missing:
            raise _unsupported(name, op.kind, f"reads {missing[0]!s}, which is not a tensor of the network")
        names[n] = name
        nodes.append(Node(name, op, tuple(names[a] for a in inputs)))
    integer = not torch.is_floating_point(example_input)
    meta = {"source": "torch", "module": model_name}
    return Network(nodes, tuple(example_input.shape[1:]), names[output], integer_input=integer, metadata=meta)
