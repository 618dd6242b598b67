"""Fixtures for the estimation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """As :func:`haven.estimation.mse.estimate` does: tests that call the modules directly
    would otherwise spend most of their time starting BLAS threads for tiny matrices."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
