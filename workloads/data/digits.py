"""Sequential 8x8 digits (scikit-learn's bundled set): pixel-wise (L=64) or row-wise (L=8).

1797 samples, pixel values 0..16 scaled to [0, 1], stratified 80/20 split with a fixed seed
(1437 train / 360 test), as in docs/s4d.md#results ("sMNIST-lite").
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.data.base import SequenceDataset


def load_digits_sequence(mode: str = "pixel", seed: int = 0, classes: tuple[int, ...] | None = None) -> SequenceDataset:
    """Sequential digits. ``mode`` is "pixel" (L=64, d_in=1) or "row" (L=8, d_in=8).

    ``classes`` keeps a subset (e.g. (3, 8) for the binary task of E8), relabelled 0..k-1.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if mode not in ("pixel", "row"):
        raise ConfigError("dataset.mode", f"must be one of 'pixel', 'row', got {mode!r}")
    d = load_digits()
    images = (d.images / 16.0).astype(np.float32)
    labels = d.target.astype(np.int64)
    if classes is not None:
        if len(classes) < 2 or any(c not in range(10) for c in classes) or len(set(classes)) != len(classes):
            raise ConfigError("dataset.classes", f"must be >= 2 distinct digits in 0..9, got {classes!r}")
        keep = np.isin(labels, classes)
        images, labels = images[keep], labels[keep]
        labels = np.searchsorted(np.array(sorted(classes)), labels)
    x = images.reshape(len(images), 64, 1) if mode == "pixel" else images.reshape(len(images), 8, 8)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=0.2, stratify=labels, random_state=seed)
    n_classes = int(labels.max()) + 1
    name = f"digits_{mode}" + ("" if classes is None else "_" + "".join(map(str, classes)))
    return SequenceDataset(name, x_tr, y_tr, x_te, y_te, n_classes, {"mode": mode, "seed": seed})
