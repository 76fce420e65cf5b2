"""Why a metric's variants differ: each variant's reading (its provenance, its description or
else its formula, and its formula), as ``csframe compare`` prints it below the numbers and
``csframe report`` shows it under the variants' charts."""

from __future__ import annotations

__all__ = ["Reading", "readings"]

from collections.abc import Iterable
from typing import Any

import attrs

from .graph import Key


@attrs.frozen
class Reading:
    key: Key
    provenance: str  # the provenance keys, comma-separated, or "no provenance"
    text: str  # the variant's description, or its formula when it has none
    formula: str


def readings(registry: Any, keys: Iterable[Key]) -> list[Reading]:
    out = []
    for key in keys:
        v = registry.variants[key].variant
        out.append(Reading(key, ", ".join(v.provenance) or "no provenance", v.description or v.formula, v.formula))
    return out
