"""Shared test set-up: the tiny-week builders of :mod:`tests.builders`, also as a fixture.

Import the builders directly (``from tests.builders import therapist, referral, instance``), or
take the ``week`` fixture, which is the module itself, when a test wants them by name.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tests import builders


@pytest.fixture
def week() -> ModuleType:
    """The tiny-week builders (:mod:`tests.builders`)."""
    return builders
