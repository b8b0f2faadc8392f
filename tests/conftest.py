"""Shared pytest fixtures for motionlab's tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The public reference files kept beside the repository (``shared/reference``).

    Tests that use them skip cleanly when the folder is absent.
    """
    path = Path(__file__).resolve().parents[2] / "shared" / "reference"
    if not path.is_dir():
        pytest.skip(f"reference folder not found: {path}")
    return path
