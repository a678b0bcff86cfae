"""Report rendering: Wilson intervals inside [0, 1], Markdown rendered in HTML, aligned tables, readable axes,
Pareto labels that do not overlap."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimc_sim.report.document import Document, inline_html
from aimc_sim.report.labels import axis_label, format_time, setting_text
from aimc_sim.report.stats import proportion_ci, wilson_interval
from aimc_sim.sweep.analysis import aggregate, describe
from aimc_sim.sweep.store import ResultTable


@pytest.mark.parametrize(
    "successes, trials, low, high",
    # Newcombe, Stat. Med. 17, 857 (1998), Table I, method 3 (Wilson score without continuity correction)
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe_1998(successes, trials, low, high):
    lo, hi = wilson_interval(successes, trials)
    assert lo == pytest.approx(low, abs=6e-5) and hi == pytest.approx(high, abs=6e-5)


@given(st.integers(1, 5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_stays_inside_0_1_and_holds_the_estimate(case):
    k, n = case
    lo, hi = wilson_interval(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_accuracy_of_two_perfect_seeds_stays_below_one():
    """The defect: a t-interval with n = 2 seeds at accuracy 1.0 / 0.98 reached past 1.0."""
    ci = proportion_ci([1.0, 0.98], [100, 100])
    assert ci.mean == pytest.approx(0.99) and ci.trials == 200 and ci.high <= 1.0 and ci.low > 0.95
    table = ResultTable(
        {
            "hash": np.array(["a", "b"], dtype=object),
            "seed": np.array([0, 1]),
            "param/x": np.array([1, 1]),
            "accuracy": np.array([1.0, 0.98]),
            "n_samples": np.array([100, 100]),
            "energy_j": np.array([1e-6, 2e-6]),
        },
        {"spec": '{"base": {"model": "m", "dataset": {"name": "d"}}}'},
    )
    (group,) = aggregate(table)
    assert group.stats["accuracy"].method == "wilson" and group.stats["accuracy"].high <= 1.0
    assert group.stats["energy_j"].method == "t"
    assert describe(table) == "model m on d · 100 test samples × 2 seeds per point · 1 points"


def test_html_renders_markdown_and_aligns_columns(tmp_path):
    doc = Document("t")
    doc.paragraph("See [the results](noise/results.h5) and `aimc demo`; **bold**.")
    doc.table(
        ["setting", "energy", "accuracy"], [["pcm-default", "1,234", "0.98 [0.95, 0.99]"], ["**total**", "5", ""]]
    )
    page = doc.to_html()
    assert "**" not in page and "`" not in page and "](" not in page
    assert '<a href="noise/results.h5">the results</a>' in page and "<code>aimc demo</code>" in page
    assert '<td class="txt"><strong>total</strong></td>' in page
    assert '<td class="num">1,234</td>' in page and '<td class="num">0.98 [0.95, 0.99]</td>' in page
    assert "text-align:left" in page and ".num{text-align:right" in page
    md = doc.to_markdown(tmp_path)
    assert "|:---|---:|---:|" in md
    assert inline_html("a < b") == "a &lt; b"


def test_axis_names_are_human_with_units():
    assert axis_label("param/hardware.tile.adc.bits") == "ADC resolution [bits]"
    assert axis_label("param/hardware.t") == "time after programming [s]"
    assert axis_label("energy_j", "µJ") == "energy per inference [µJ]"
    assert axis_label("extra.some_power_j") == "some power [J]"  # unknown columns: last part + suffix unit
    assert setting_text("hardware.t", 86400.0) == "time after programming 1 day"
    assert format_time(20.0) == "20 s"


def test_pareto_labels_do_not_overlap():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from aimc_sim.report.plots import _place_labels

    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, 30), rng.uniform(0, 1, 30)
    x[:5], y[:5] = 0.5, 0.5  # five designs on one spot share one label
    fig, ax = plt.subplots(figsize=(4, 3), dpi=120)
    ax.plot(x, y, "o", ms=5)
    fig.tight_layout()
    _place_labels(ax, x, y, [str(i + 1) for i in range(30)], ["k"] * 30)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in ax.texts]
    assert texts[0].get_text() == "1,2,3,4,5"
    shown = sorted(int(n) for t in texts for n in t.get_text().split(","))
    assert shown == list(range(1, 31))  # every design is numbered
    boxes = [t.get_window_extent(renderer) for t in texts]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert overlaps == 0
    plt.close(fig)
