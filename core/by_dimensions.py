"""Every rule of ``--by``, in one place.

A ``--by NAME`` is either a reading a metric variant declares (``--by step``: the variant's
``splits``) or a dimension, a column of the ``customers`` source (``cohort`` being csframe's
own). :func:`planned_dimensions` applies the rules that need no engine, once, when the plan
is built (:func:`~csframe.core.plan.build_plan` calls it); :func:`check_columns` and
:func:`column_named` are the rules that need the engine's columns of ``customers``, which
the session calls when it has them. Nothing else checks ``--by``."""

from __future__ import annotations

__all__ = ["result_columns", "Dimensions", "split_readings", "carried_dimensions", "check_key", "check_names",
           "planned_dimensions", "mapped_names", "check_columns", "column_named"]

from collections.abc import Callable, Collection, Mapping, Sequence

import attrs

from . import cohorts
from .contract import source
from .errors import UsageError, did_you_mean
from .graph import Key, Resolved
from .registry import Registry


def result_columns() -> tuple[str, ...]:
    """The columns of csframe's result, and ``grp`` (the group column of every step of the
    query): names no dimension may have."""
    from .compiler import OUTPUT_COLUMNS  # the compiler reads the plan, which reads this module

    return (*OUTPUT_COLUMNS, "value", "grp")


@attrs.frozen
class Dimensions:
    """What the ``--by`` of a request mean for a plan."""

    by: tuple[str, ...]  # the customers dimensions (``cohort`` spelled so, whatever its case)
    splits: dict[Key, str]  # key -> the ``--by`` reading of it the run computes
    dimensions: dict[Key, str]  # key -> the extra key its rows carry (a keyed measure's key)


def split_readings(registry: Registry, keys: Sequence[Key], by: Sequence[str]) -> tuple[dict[Key, str], tuple[str, ...]]:
    """(key -> the reading it is split by, the other names: customers dimensions). A reading
    splits every requested key or the run is refused; one key is split by one reading."""
    split_names = {n for n in by for k in keys if n in registry.variants[k].variant.splits}
    splits: dict[Key, str] = {}
    for name in split_names:
        for key in keys:
            if name not in registry.variants[key].variant.splits:
                raise UsageError(
                    f"--by {name}: metric {key[0]}:{key[1]} cannot be split by {name}",
                    hint=f"Compute it in a separate run; --by {name} is a reading of "
                    + ", ".join(sorted({f"{k[0]}:{k[1]}" for k in keys if name in registry.variants[k].variant.splits})),
                )
            if key in splits:
                raise UsageError(f"--by {splits[key]} and --by {name} cannot both split {key[0]}:{key[1]}")
            splits[key] = name
    customer_by = tuple(cohorts.COHORT if n.lower() == cohorts.COHORT else n for n in by if n not in split_names)
    return splits, customer_by


def carried_dimensions(registry: Registry, keys: Sequence[Key], splits: Mapping[Key, str],
                       customer_by: Sequence[str]) -> dict[Key, str]:
    """key -> the dimension its rows already carry; a ``--by`` of that same dimension is refused."""
    dimensions: dict[Key, str] = {}
    for key in keys:
        dim = registry.dimension_of(*key, splits.get(key))
        if dim is not None:
            if dim in customer_by:
                raise UsageError(f"--by {dim}: metric {key[0]}:{key[1]} already carries the dimension {dim}")
            dimensions[key] = dim
    return dimensions


def check_key(registry: Registry, key: Key, plain: Resolved, computed: Resolved, customer_by: Sequence[str]) -> None:
    """``key`` under the customers dimensions ``customer_by``: its sources (``plain``: its closure
    without a reading) all have a customer, and every ``--by`` its steps (``computed``: as the
    run computes it) need is given (``cohort`` for the cohort metrics)."""
    if customer_by:
        bad = [s for s in plain.sources if source(s).customer_column is None]
        if bad:
            raise UsageError(
                f"metric {key[0]}:{key[1]} reads {', '.join(bad)}, which has no customer, so --by cannot split it",
                hint="Compute it without --by.",
            )
    for n in computed.nodes:
        needed = registry.nodes[n].node.needs_by
        if needed is not None and needed not in customer_by:
            raise UsageError(f"metric {key[0]}:{key[1]} needs --by {needed}",
                             hint=f"Add --by {needed} (it combines with other --by dimensions).")


def check_names(by: Sequence[str], mapped_sources: Collection[str] | None) -> None:
    """The customers dimensions ``by`` can be dimensions: the project maps ``customers``
    (``mapped_sources``; None: not a project's plan, every source is given), and none is a key
    column of customers, a column name of csframe's result, or named twice (in any case)."""
    if not by:
        return
    if mapped_sources is not None and "customers" not in mapped_sources:
        raise UsageError("--by needs the customers source (dimensions are its extra columns)",
                         hint="Map [sources.customers] in csframe.toml.")
    reserved, ours = set(source("customers").column_names), result_columns()
    for i, d in enumerate(by):
        if d.lower() in reserved:
            raise UsageError(f"--by {d}: {d} is a key column of customers, not a dimension")
        if d.lower() in ours:
            raise UsageError(f"--by {d}: {d} is a name of csframe's own ({', '.join(ours)}), so it "
                             "cannot name a dimension",
                             hint=f"Give the column another name in [sources.customers] sql = \"SELECT *, {d} AS "
                                  f"customer_{d} FROM …\", and use --by customer_{d}.")
        if d.lower() in (b.lower() for b in by[:i]):
            raise UsageError(f"--by {d}: named twice (names of dimensions are case-insensitive)",
                             hint="Name each dimension once.")


def planned_dimensions(registry: Registry, keys: Sequence[Key], by: Sequence[str]) -> Dimensions:
    """The readings and dimensions of ``by`` for ``keys`` (the first rules of the plan; the
    planner then calls :func:`check_key` per key and :func:`check_names` last)."""
    splits, customer_by = split_readings(registry, keys, by)
    return Dimensions(customer_by, splits, carried_dimensions(registry, keys, splits, customer_by))


def mapped_names(by: Sequence[str], columns: Collection[str]) -> tuple[str, ...]:
    """``by`` with each name that a key of ``[sources.customers] columns`` names, whatever its
    case, spelled as that key."""
    mapped = {k.lower(): k for k in columns if k not in source("customers").column_names}
    return tuple(d if d == cohorts.COHORT else mapped.get(d.lower(), d) for d in by)


def check_columns(registry: Registry, column: Callable[[str], str], by: Sequence[str], have: Collection[str]) -> None:
    """Every ``--by`` dimension is a column of customers (``have``: the engine's columns, lower
    case; ``column``: the customers column a name is mapped to): a usage error naming the
    dimensions there are, and the metrics a name is a reading of."""
    reserved = {column(c).lower() for c in source("customers").column_names}
    unknown = [d for d in by if d != cohorts.COHORT and column(d).lower() not in have]
    if not unknown:
        return
    dims = sorted(set(have) - reserved)
    splits = {d: sorted(f"{m}:{v}" for (m, v), rv in registry.variants.items() if d in rv.variant.splits)
              for d in unknown}
    readings = "; ".join(f"--by {d} is a reading of {', '.join(ms)} only" for d, ms in splits.items() if ms)
    raise UsageError(
        f"--by {', '.join(unknown)}: customers has no such column"
        + (f" ({readings})" if readings else "") + "."
        + (did_you_mean(unknown[0].lower(), dims) if len(unknown) == 1 else ""),
        hint=f"Its dimensions: {', '.join(dims) or 'none (customers has no extra column)'}.")


def column_named(name: str, columns: Sequence[str]) -> str:
    """The column of ``columns`` that ``name`` names: the same text, else the one equal to it
    ignoring case (a usage error when several are); ``name`` itself when none is."""
    if name in columns:
        return name
    same = [c for c in columns if c.lower() == name.lower()]
    if len(same) > 1:
        raise UsageError(f"--by {name}: customers has {len(same)} columns of that name in different cases "
                         f"({', '.join(sorted(same))})", hint="Name one with its exact case.")
    return same[0] if same else name
