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


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep the tests' corpus and window caches out of the user's cache folder."""
    import os

    old = os.environ.get("MOTIONLAB_CACHE")
    os.environ["MOTIONLAB_CACHE"] = str(tmp_path_factory.mktemp("motionlab_cache"))
    yield
    if old is None:
        os.environ.pop("MOTIONLAB_CACHE", None)
    else:
        os.environ["MOTIONLAB_CACHE"] = old


@pytest.fixture(scope="session")
def tiny_corpus(_private_cache) -> Path:
    """The built-in tiny synthetic corpus (seed 0), generated once per test session."""
    from motionlab.data.sources import builtin_corpus

    return builtin_corpus("tiny", 0)
