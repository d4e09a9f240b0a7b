"""The Li & Lim benchmark harness: instance parser, independent checker, and a short fanggang run."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from benchmarks.check import check_solution
from benchmarks.lilim_data import data_dir, read_bks, read_instance, resolve_instances

LC101 = data_dir() / "lc101.txt"
needs_data = pytest.mark.skipif(not LC101.exists(), reason="shared/benchmarks/lilim is not checked out beside the repo")

# Depot at the origin; two requests of 15 (nodes 1 -> 2 and 3 -> 4); capacity 20; horizon 1000.
TINY = """2\t20\t1
0\t0\t0\t0\t0\t1000\t0\t0\t0
1\t3\t4\t15\t0\t1000\t10\t0\t2
2\t6\t8\t-15\t0\t1000\t10\t1\t0
3\t0\t5\t15\t0\t1000\t10\t0\t4
4\t0\t10\t-15\t0\t30\t10\t3\t0
"""


@pytest.fixture
def tiny(tmp_path: Path):
    """A four-customer instance small enough to check by hand."""
    path = tmp_path / "tiny.txt"
    path.write_text(TINY.replace("\n", "\r\n"))
    return read_instance(path)


@needs_data
def test_parser_reads_lc101() -> None:
    """lc101 has a depot and 106 customers in 53 pickup-delivery pairs, 25 vehicles of capacity 200."""
    instance = read_instance(LC101)
    assert (instance.vehicles, instance.capacity, len(instance.nodes)) == (25, 200, 107)
    assert len(instance.requests) == 53
    for pickup, delivery in instance.requests:
        assert instance.nodes[pickup].demand > 0
        assert instance.nodes[delivery].demand == -instance.nodes[pickup].demand
        assert instance.nodes[delivery].pickup_sibling == pickup
    assert instance.horizon == 1236
    assert read_bks()["lc101"].vehicles == 10


@needs_data
def test_instance_selection_by_name_prefix_and_path() -> None:
    """Prefixes take one series only (lr1 is not lrc1); all 56 by default."""
    assert len(resolve_instances(None)) == 56
    assert [p.stem for p in resolve_instances("lr1")] == [f"lr1{k:02d}" for k in range(1, 13)]
    assert [p.stem for p in resolve_instances(f"lc101,{LC101}")] == ["lc101"]


def test_checker_accepts_a_feasible_solution(tiny) -> None:
    """One route per request, pickup first, is feasible; distance is recomputed unrounded."""
    result = check_solution(tiny, [[1, 2], [3, 4]])
    assert result.feasible, result.problems
    assert result.vehicles == 2
    assert result.distance == pytest.approx(5 + 5 + 10 + 5 + 5 + 10)


def test_checker_rejects_capacity_violation(tiny) -> None:
    """Two loads of 15 on board at once exceed a capacity of 20."""
    result = check_solution(tiny, [[1, 3, 2, 4]])
    assert not result.feasible
    assert any("capacity" in p for p in result.problems)


def test_checker_rejects_delivery_before_pickup(tiny) -> None:
    """A delivery served before its pickup is infeasible, even on the right route."""
    result = check_solution(tiny, [[2, 1], [3, 4]])
    assert not result.feasible
    assert any("before" in p for p in result.problems)


def test_checker_rejects_window_violation(tiny) -> None:
    """Node 4 closes at 30; reaching it after serving the first request is too late."""
    result = check_solution(tiny, [[1, 2, 3, 4]])
    assert not result.feasible
    assert any("window" in p for p in result.problems)


def test_checker_rejects_missing_and_repeated_nodes(tiny) -> None:
    """Every customer exactly once."""
    assert not check_solution(tiny, [[1, 2]]).feasible
    assert not check_solution(tiny, [[1, 2], [3, 4], [1, 2]]).feasible


@needs_data
def test_fanggang_quick_run_on_lc101_is_feasible() -> None:
    """Three seconds through the harness (fresh subprocess) give a checked, feasible plan of >= 10 vehicles."""
    from benchmarks.lilim import run_one

    row = run_one("fanggang", LC101, 3.0, read_bks())
    assert row.feasible, row.note
    assert row.vehicles is not None and 10 <= row.vehicles <= 25
    assert row.distance is not None and row.distance >= 828.93


@pytest.mark.parametrize("family", ["VARIANTS", "OWN_VARIANTS", "VROOM_VARIANTS"])
def test_every_variant_family_finds_the_tiny_optimum(tiny, family: str) -> None:
    """PyVRP-seeded (default), OR-Tools-only and VROOM-seeded runs all reach the optimum the checker confirms:
    one route, serving 3 -> 4 first (node 4 closes at 30), then 1 -> 2; the note names the winning variant."""
    from benchmarks import lilim_fanggang

    variants = getattr(lilim_fanggang, family)
    routes, note = lilim_fanggang.solve_lilim(tiny, 1.0, variants)
    result = check_solution(tiny, routes)
    assert result.feasible, result.problems
    assert result.vehicles == 1
    assert result.distance == pytest.approx(5 + 5 + math.hypot(3, 6) + 5 + 10)
    winner = note.split(" ")[0]
    assert winner in {v.name for v in variants}
    seeded = next(v for v in variants if v.name == winner).warm_start is not None
    assert ("OR-Tools vs the seed: +0 vehicles, +0.00% distance" in note) == seeded
