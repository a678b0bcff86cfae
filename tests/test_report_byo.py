"""``aimc report PATH --data PATH --hardware HW.yaml -o DIR`` for every supported model file type, the shipped
SNN, sweep points with model/dataset paths, ``aimc models``, and bad files failing before anything is written."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from aimc_sim.cli import main
from aimc_sim.sweep import load_results, load_spec, run_sweep
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel

NIR = Path(__file__).parent / "data" / "nir_acceptance"


def _report(tmp_path, *args, hardware=None):
    hw = tmp_path / "hw.yaml"
    hw.write_text(yaml.safe_dump(hardware or {"backend": "float"}))
    out = tmp_path / "rep"
    code = main(["report", *map(str, args), "--hardware", str(hw), "-o", str(out), "--workers", "0", "--no-progress"])
    return code, out


def test_shipped_snn_report(tmp_path):
    code, out = _report(tmp_path, "snn_digits", "--seeds", "1", "--n-test", "20")
    assert code == 0
    assert "| data set | spike_digits, first 20 test samples |" in (out / "report.md").read_text()
    assert 0.5 < load_results(out / "results.h5").columns["accuracy"][0] <= 1.0


def test_user_nir_with_spike_data_file_on_tiles(tmp_path, rng):
    data = tmp_path / "spikes.npz"
    np.savez(data, x=(rng.random((10, 30, 12)) < 0.3).astype(np.uint8), y=rng.integers(0, 4, 10), kind="spikes")
    args = [NIR / "snntorch_mlp.nir", "--model-option", "convention=snntorch", "--data", data, "--seeds", "2"]
    code, out = _report(tmp_path, *args, "--n-test", "10", hardware={"tile": "rram-default", "t": 3600.0})
    assert code == 0
    table = load_results(out / "results.h5")
    assert len(table) == 2 and np.all(np.isfinite(table.columns["energy_j"])) and table.columns["energy_j"][0] > 0


def _reference_checkpoint(path, rng):
    """A project model's weights saved as a torch state dict under the state-spaces reference keys."""
    import torch

    m = S4DModel.random(S4DConfig(d_in=2, n_classes=3, d_model=8, d_state=4, n_layers=2), rng)
    sd = {"encoder.weight": m.weights["encoder.weight"], "encoder.bias": m.weights["encoder.bias"]}
    sd |= {"decoder.weight": m.weights["decoder.weight"], "decoder.bias": m.weights["decoder.bias"]}
    for i in range(2):
        w = {k.split(f"layers.{i}.", 1)[1]: v for k, v in m.weights.items() if k.startswith(f"layers.{i}.")}
        sd |= {f"s4_layers.{i}.kernel.{k}": w[f"ssm.{k}"] for k in ("log_dt", "C", "log_A_real", "A_imag")}
        sd |= {f"s4_layers.{i}.D": w["ssm.D"], f"s4_layers.{i}.output_linear.0.bias": w["mix.bias"]}
        sd |= {f"s4_layers.{i}.output_linear.0.weight": w["mix.weight"][:, :, None]}
        sd |= {f"norms.{i}.weight": w["norm.weight"], f"norms.{i}.bias": w["norm.bias"]}
    torch.save({k: torch.as_tensor(np.asarray(v, np.float32)) for k, v in sd.items()}, path)
    return m


def test_reference_s4d_pt_with_sequence_data_file(tmp_path, rng):
    m = _reference_checkpoint(tmp_path / "ref.pt", rng)
    data = tmp_path / "seq.h5"
    import h5py

    x = rng.random((12, 16, 2)).astype(np.float32)
    with h5py.File(data, "w") as f:
        f["x"], f["y"] = x, rng.integers(0, 3, 12)
    code, out = _report(tmp_path, tmp_path / "ref.pt", "--data", data, "--seeds", "1", "--n-test", "12")
    assert code == 0
    acc = load_results(out / "results.h5").columns["accuracy"][0]
    with h5py.File(data) as f:
        assert acc == pytest.approx(np.mean(m.forward(x).argmax(1) == f["y"][()]))


def test_sweep_points_take_model_and_dataset_paths(tmp_path, rng):
    data = tmp_path / "spikes.npz"
    np.savez(data, x=(rng.random((6, 30, 12)) < 0.3).astype(np.uint8), y=rng.integers(0, 4, 6), kind="spikes")
    spec = load_spec(
        {
            "evaluator": "workloads.api:evaluate",
            "base": {
                "hardware": {"backend": "float"},
                "dataset": str(data),
                "model": {"name": str(NIR / "snntorch_mlp.nir"), "convention": "snntorch"},
            },
            "axes": [
                {
                    "kind": "grid",
                    "params": {"model.name": [str(NIR / "snntorch_mlp.nir"), str(NIR / "snntorch_synaptic.nir")]},
                }
            ],
            "output": str(tmp_path / "sweep.h5"),
        }
    )
    summary = run_sweep(spec, workers=0, progress=False)
    assert len(load_results(summary.output)) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([NIR / "snntorch_mlp.nir"], "dt: required"),
        ([NIR / "snntorch_mlp.nir", "--model-option", "convention=snntorch", "--data", "BAD"], "BAD:x: contains NaN"),
        ([NIR / "snntorch_mlp.nir", "--model-option", "convention=snntorch"], "spikes have 16 channels; the model"),
        (["TRUNC"], "TRUNC: cannot read as HDF5"),
        (["unknown_model"], "unknown_model"),
    ],
)
def test_bad_model_or_data_fail_before_writing(tmp_path, capsys, args, message):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.full((5, 30, 12), np.nan), y=np.zeros(5, int), kind="spikes")
    trunc = tmp_path / "trunc.nir"
    trunc.write_bytes((NIR / "snntorch_mlp.nir").read_bytes()[:500])
    args = [{"BAD": bad, "TRUNC": trunc}.get(str(a), a) for a in args]
    message = message.replace("BAD", str(bad)).replace("TRUNC", str(trunc))
    if args[0] == trunc:
        args += ["--model-option", "convention=snntorch"]
    code, out = _report(tmp_path, *args)
    assert code == 2 and message in capsys.readouterr().err
    assert not out.exists()


def test_models_lists_shipped_models(capsys):
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "snn_digits" in text and "16 -> 128 -> 10 neurons" in text
    assert "s4d_digits_float" in text and "float S4D (S4D-Lin, ZOH" in text


def test_onnx_network_with_vector_data_file(tmp_path, rng):
    """An ONNX file exported by torch goes through the same command (the network family of the registry)."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    torch.onnx.export(net, torch.zeros(1, 6), str(tmp_path / "mlp.onnx"), opset_version=17, dynamo=False)
    x = rng.random((12, 6)).astype(np.float32)
    np.savez(tmp_path / "vec.npz", x=x, y=rng.integers(0, 3, 12))
    code, out = _report(
        tmp_path,
        tmp_path / "mlp.onnx",
        "--data",
        tmp_path / "vec.npz",
        "--seeds",
        "1",
        "--n-test",
        "12",
        hardware={"tile": "pcm-default"},
    )
    assert code == 0
    table = load_results(out / "results.h5")
    assert np.isfinite(table.columns["energy_j"][0]) and "| family | network |" in (out / "report.md").read_text()
