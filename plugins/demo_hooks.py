"""Registers the demo data generator (:mod:`csframe.plugins.demo`) for ``csframe init --demo``."""

from __future__ import annotations

__all__ = ["csframe_demo_dataset"]

from csframe.core.hookspecs import hookimpl


@hookimpl
def csframe_demo_dataset(customers, months, end, seed):
    from .demo import generate

    return generate(customers=customers, months=months, end=end, seed=seed)
