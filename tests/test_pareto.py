"""Pareto fronts on hand-made points: ties, duplicates, maximized objectives, 3 objectives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurosim.analysis.pareto import _front_nd, objectives, pareto_front, pareto_mask


def front(points, maximize=None) -> list[int]:
    return list(np.flatnonzero(pareto_mask(np.array(points, dtype=float), maximize)))


def test_two_objectives_minimized():
    #            0       1       2       3       4
    points = [(1, 5), (2, 3), (3, 4), (4, 1), (5, 5)]
    assert front(points) == [0, 1, 3]  # (3,4) is beaten by (2,3); (5,5) by everything


def test_a_tie_in_one_objective_is_broken_by_the_other():
    # (1, 3) ties (1, 2) in x and is worse in y: dominated. (2, 2) ties (1, 2) in y: dominated.
    assert front([(1, 2), (1, 3), (2, 1), (2, 2)]) == [0, 2]


def test_every_copy_of_a_front_point_is_on_the_front():
    points = [(1, 2), (1, 2), (2, 1), (3, 3), (3, 3), (2, 1)]
    assert front(points) == [0, 1, 2, 5]  # copies of dominated (3, 3) stay off


def test_all_identical_points_are_all_on_the_front():
    assert front([(4, 4)] * 3) == [0, 1, 2]


def test_one_objective_maximized():
    # throughput (max) against energy (min)
    points = [(100, 5.0), (200, 6.0), (150, 7.0), (200, 6.0), (50, 1.0)]
    assert front(points, [True, False]) == [0, 1, 3, 4]


def test_three_objectives():
    points = [
        (1, 1, 9),  # best in x and y
        (9, 9, 1),  # best in z
        (5, 5, 5),  # a compromise no one beats everywhere
        (5, 6, 5),  # beaten by the compromise
        (1, 1, 9),  # a copy of a front point
        (2, 2, 9),  # beaten by the first
    ]
    assert front(points) == [0, 1, 2, 4]
    assert front(points, [False, False, True]) == [0, 4]  # maximizing z: (1,1,9) wins all


def test_missing_values_are_off_the_front_and_dominate_nothing():
    assert front([(np.nan, 0.0), (1.0, 1.0), (2.0, 0.5)]) == [1, 2]
    assert front([(np.nan, np.nan)]) == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=40))
def test_fast_two_objective_front_equals_the_all_pairs_definition(points):
    w = np.array(points, dtype=float)
    assert list(pareto_mask(w)) == list(_front_nd(w))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 4)] * 3), min_size=1, max_size=30))
def test_front_definition_holds(points):
    w = np.array(points, dtype=float)
    mask = pareto_mask(w)
    for i, on in enumerate(mask):
        dominated = any(
            (w[j] <= w[i]).all() and (w[j] < w[i]).any() for j in range(len(w)) if j != i
        )
        assert on == (not dominated)


def test_objectives_defaults_and_overrides():
    assert objectives(["latency_mean_s", "tokens_per_s"]) == {
        "latency_mean_s": "min",
        "tokens_per_s": "max",
    }
    assert objectives(["area_m2", "tokens_per_s"], minimize=["tokens_per_s"]) == {
        "area_m2": "min",
        "tokens_per_s": "min",
    }
    with pytest.raises(ValueError, match="both minimized and maximized"):
        objectives(["a", "b"], minimize=["a"], maximize=["a"])
    with pytest.raises(ValueError, match="not an objective"):
        objectives(["a", "b"], maximize=["c"])


def test_pareto_front_on_a_frame():
    frame = pd.DataFrame(
        {"energy": [1.0, 2.0, 1.0, 3.0], "rate": [10.0, 30.0, 10.0, 20.0], "k": list("abcd")}
    )
    out = pareto_front(frame, {"energy": "min", "rate": "max"})
    assert list(out["on_front"]) == [True, True, True, False]
    with pytest.raises(ValueError, match="at least two"):
        pareto_front(frame, {"energy": "min"})


def test_pareto_command_writes_csv_png_svg(tmp_path, capsys):
    from neurosim.cli.app import main
    from neurosim.sweep import load_spec, load_study, run_study

    fix = Path(__file__).resolve().parent / "fixtures"
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"architecture: {fix / 'tiny_arch.yaml'}\nworkload: {fix / 'tiny_workload.yaml'}\n"
        "tokens: 1\naxes:\n  compute.clock_hz: [250 MHz, 500 MHz, 1 GHz]\n"
        "  dram.channels[1].efficiency: [0.25, 0.5, 1.0]\n  workload.weights.bits: [2, 8]\n"
    )
    db = tmp_path / "s.db"
    run_study(load_spec(spec), db, jobs=1)
    out_base = tmp_path / "plots" / "front"
    code = main(
        [
            "pareto",
            str(db),
            "--x",
            "latency_mean_s",
            "--y",
            "energy_per_token_j",
            "--z",
            "total_power_w",
            "--maximize",
            "total_power_w",
            "--color",
            "compute.clock_hz",
            "--out",
            str(out_base),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    for suffix in (".csv", ".png", ".svg"):
        assert out_base.with_suffix(suffix).stat().st_size > 0
    table = pd.read_csv(out_base.with_suffix(".csv"))
    frame = load_study(db)
    expected = pareto_front(
        frame, {"latency_mean_s": "min", "energy_per_token_j": "min", "total_power_w": "max"}
    )
    assert sorted(table["key"]) == sorted(expected[expected["on_front"]]["key"])
    assert f"{len(table)} of 18 points on the front" in out
    assert "GHz" in out or "MHz" in out  # swept values printed in readable units
    code = main(["pareto", str(db), "--x", "latency_mean_s", "--y", "nonsense"])
    assert code == 2 and "unknown metric 'nonsense'" in capsys.readouterr().err
