"""Shared test configuration.

Hypothesis profiles: ``default`` keeps the suite quick and free of timing
(no deadline: CI machines are slow and busy); ``fuzz`` is the long run,
chosen with ``HYPOTHESIS_PROFILE=fuzz`` (and ``FUZZ_EXAMPLES`` to size it).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100000")),
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
