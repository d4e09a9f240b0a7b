"""The code stays lint-clean and the planning core type-checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing() -> None:
    """ruff (lint rules in pyproject.toml) reports no findings."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", "."], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_accepts_the_planning_core() -> None:
    """mypy type-checks scheduler/ without errors."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "scheduler"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
