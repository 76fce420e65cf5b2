"""Random draws made from uniform ones.

Every draw of the demo data comes from ``Random.random()`` (the one method Python promises to keep
stable across versions); these turn such uniform draws into the other distributions it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["_exp", "_pick", "_skip"]


def _exp(r: Callable[[], float], mean: float) -> float:
    """An exponential draw from a uniform one (inversion), so only ``random()`` is used."""
    return -math.log(1.0 - r()) * mean


def _skip(r: Callable[[], float], log_q: float) -> int:
    """Failures before the next success of a Bernoulli(p) sequence, with ``log_q = log(1 - p)``."""
    return int(math.log(1.0 - r()) / log_q)


def _pick(r: Callable[[], float], cumulative: tuple[float, ...]) -> int:
    u = r()
    return next((k for k, upto in enumerate(cumulative) if u < upto), len(cumulative) - 1)
