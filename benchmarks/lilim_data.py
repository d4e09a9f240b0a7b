"""Li & Lim PDPTW instance files -> plain data, and the best-known table.

The parser knows nothing about any solver: ``LilimInstance`` holds the file as read, in the file's own
units (floats for coordinates, integers for windows, demands and service times).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

SERIES = ("lc1", "lc2", "lr1", "lr2", "lrc1", "lrc2")


def data_dir() -> Path:
    """Folder with the instance files: ``$FANGGANG_LILIM_DIR`` or ``shared/benchmarks/lilim`` beside the repo."""
    override = os.environ.get("FANGGANG_LILIM_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "lilim"


@dataclass(frozen=True, slots=True)
class LilimNode:
    index: int
    x: float
    y: float
    demand: int
    ready: int
    due: int
    service: int
    pickup_sibling: int  # for a delivery: its pickup; 0 otherwise
    delivery_sibling: int  # for a pickup: its delivery; 0 otherwise


@dataclass(frozen=True, slots=True)
class LilimInstance:
    name: str
    vehicles: int
    capacity: int
    nodes: tuple[LilimNode, ...]  # nodes[0] is the depot

    @property
    def requests(self) -> list[tuple[int, int]]:
        """(pickup, delivery) node pairs, in pickup order."""
        return [(n.index, n.delivery_sibling) for n in self.nodes[1:] if n.delivery_sibling]

    @property
    def horizon(self) -> int:
        return self.nodes[0].due

    def distance(self, i: int, j: int) -> float:
        """Unrounded Euclidean distance, as in the literature."""
        a, b = self.nodes[i], self.nodes[j]
        return math.hypot(a.x - b.x, a.y - b.y)


def read_instance(path: Path) -> LilimInstance:
    """Read one instance file (tabs or spaces, CRLF or LF). Raises ValueError on a malformed file."""
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not rows or len(rows[0]) < 2:
        raise ValueError(f"{path}: expected 'K Q S' on the first line.")
    vehicles, capacity = int(rows[0][0]), int(rows[0][1])
    nodes = []
    for k, row in enumerate(rows[1:]):
        if len(row) != 9:
            raise ValueError(f"{path}: expected 9 fields on node line {k}, got {len(row)}.")
        i, x, y, d, e, lt, s, p, q = row
        nodes.append(LilimNode(int(i), float(x), float(y), int(d), int(e), int(lt), int(s), int(p), int(q)))
    for k, node in enumerate(nodes):
        if node.index != k:
            raise ValueError(f"{path}: expected node {k} on line {k + 2}, got {node.index}.")
    for node in nodes[1:]:
        if node.delivery_sibling and nodes[node.delivery_sibling].pickup_sibling != node.index:
            raise ValueError(f"{path}: pickup {node.index} and delivery {node.delivery_sibling} do not match.")
    return LilimInstance(path.stem, vehicles, capacity, tuple(nodes))


@dataclass(frozen=True, slots=True)
class BestKnown:
    vehicles: int
    distance: float


def read_bks(folder: Path | None = None) -> dict[str, BestKnown]:
    path = (folder or data_dir()) / "bks.csv"
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        return {r["instance"]: BestKnown(int(r["bks_vehicles"]), float(r["bks_distance"])) for r in csv.DictReader(f)}


def resolve_instances(spec: str | None, folder: Path | None = None) -> list[Path]:
    """Names (``lc101``), prefixes (``lr2`` = every lr2xx) or paths, comma-separated; None = all 100-task files."""
    folder = folder or data_dir()
    available = sorted(folder.glob("*.txt"), key=lambda p: _sort_key(p.stem))
    if not spec:
        return available
    chosen: list[Path] = []
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        path = Path(token)
        if path.suffix == ".txt" and path.exists():
            if path.resolve() not in {p.resolve() for p in chosen}:
                chosen.append(path)
            continue
        exact = [p for p in available if p.stem == token]
        # "lr1" must not pick up "lrc1...": a prefix is followed by digits only.
        matches = exact or [p for p in available if p.stem.startswith(token) and p.stem[len(token) :].isdigit()]
        if not matches:
            raise ValueError(f"No Li & Lim instance matches {token!r} in {folder}.")
        chosen.extend(p for p in matches if p.resolve() not in {c.resolve() for c in chosen})
    return chosen


def _sort_key(stem: str) -> tuple[int, str]:
    series = next((k for k, prefix in enumerate(SERIES) if stem.startswith(prefix)), len(SERIES))
    return (series, stem)
