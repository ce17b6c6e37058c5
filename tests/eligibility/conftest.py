"""Fixtures for the eligibility tests (helpers in helpers.py)."""

from __future__ import annotations

import pytest

from .helpers import Builder


@pytest.fixture
def builder() -> Builder:
    return Builder()
