"""Shared settings for the unit tests: pure logic, no cluster."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# CI machines are small and shared; a property test must fail on a wrong answer, never on a slow one.
settings.register_profile("ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")
