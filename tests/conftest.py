"""Shared test configuration.

Hypothesis profiles: ``default`` keeps the suite quick and free of timing
(no deadline: CI machines are slow and busy); ``ci`` is the same with
fixed examples, chosen when ``CI`` is set; ``fuzz`` is the long run, chosen
with ``HYPOTHESIS_PROFILE=fuzz`` (and ``FUZZ_EXAMPLES`` to size it).
"""

from __future__ import annotations

import os
import pathlib
import sys

from hypothesis import HealthCheck, settings

# Test modules are imported in importlib mode, which puts nothing on sys.path;
# the shared seed messages (fuzz_corpus.py) are imported by name, by the tests
# and by benchmarks/fuzz_long.py alike.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

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
# CI runs the same examples every time: a red build then means a change broke
# something, not that a new random example was drawn.  Exploration is what the
# default profile (locally) and the fuzz profile are for.
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)
