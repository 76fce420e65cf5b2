"""The renderer: the neutral tree, through an adapter's dialect transforms, to SQL text."""

from __future__ import annotations

__all__ = ["render", "prepared", "dialect_profile"]

from typing import Any

from .adapter import apply_transforms
from .errors import UsageError, did_you_mean


def dialect_profile(registry: Any, name: str) -> Any:
    """The adapter class registered under ``name`` (its DIALECT and TRANSFORMS), or the SQL-only
    dialect of that name (``csframe_register_dialects``)."""
    for table in (registry.adapters, registry.dialects):
        if name in table:
            return table[name][1]
    known = [*registry.adapters, *registry.dialects]
    raise UsageError(f"unknown dialect {name!r}.{did_you_mean(name, known)}", hint=f"Use one of: {', '.join(known)}.")


def prepared(tree: Any, profile: Any) -> Any:
    """``tree`` through the adapter class ``profile``'s transforms (a copy: they rewrite in place),
    ready to be generated in its dialect; ``tree`` itself when it has none."""
    transforms = profile.TRANSFORMS
    return apply_transforms(tree.copy(), transforms) if transforms else tree


def render(tree: Any, profile: Any, *, pretty: bool = True) -> str:
    """SQL text for the adapter class ``profile``."""
    # generating SQL leaves the tree as it was: the generator works on a copy, unless prepared()
    # made one already (an adapter with transforms), which nothing else holds
    ready = prepared(tree, profile)
    return ready.sql(dialect=profile.DIALECT, pretty=pretty, copy=ready is tree)
