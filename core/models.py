"""The values a metric definition is made of: metrics, variants, parameters,
provenance, units, worked examples, and the SQL nodes that provide measures.

All are frozen attrs classes; change them with ``attrs.evolve``.
"""

from __future__ import annotations

__all__ = [
    "UNITS",
    "UNIT_MEANINGS",
    "DEPRECATED_UNITS",
    "Provenance",
    "Parameter",
    "Example",
    "Figure",
    "LeftOut",
    "Variant",
    "Metric",
    "Measure",
    "Node",
    "MetricRef",
]

import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs

UNIT_MEANINGS = {
    "share": "a fraction of a whole: 0.523 is shown `52.30 %` in a table",
    "multiple": "one amount over another of the same kind: shown `3.5×`",
    "per_unit": "an amount per customer, user or period: a plain number (`0.52`)",
    "count": "a number of things: no decimals (`1,204`)",
    "money": "an amount of money, in the data's currency: two decimals (`5,888.66`)",
    "days": "a duration in days: shown `12.4 d`",
    "hours": "a duration in hours: shown `3.1 h`",
    "months": "a duration in months: shown `28.0 mo`",
    "score": "a point on a scale (nps −100…100, csat 1–5): a plain number",
}
"""What a metric's number is, which decides how a table shows it; csv, json, jsonl and
parquet always hold the raw number (a share as the fraction)."""
UNITS = tuple(UNIT_MEANINGS)
DEPRECATED_UNITS = {"ratio": "share"}
"""Units older plugins declare, and the unit each now means (with a DeprecationWarning)."""
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_name(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name} {value!r} is not a valid name "
            "(lower-case letters, digits and '_', starting with a letter)"
        )


def _check_unit(instance: Any, attribute: attrs.Attribute, value: str | None) -> None:
    if value is not None and value not in UNITS:
        raise ValueError(f"unit {value!r} is not one of {', '.join(UNITS)}")


def _unit(value: Any) -> Any:
    """``ratio`` (before csframe told shares from multiples) still reads, as ``share``."""
    if value in DEPRECATED_UNITS:
        new = DEPRECATED_UNITS[value]
        warnings.warn(f"unit {value!r} is deprecated: it now reads as {new!r}; declare 'share' (a fraction shown "
                      "as %), 'multiple' (shown as 3.5×) or 'per_unit' (a plain number) instead",
                      DeprecationWarning, stacklevel=3)  # the plugin line that declared it
        return new
    return value


def _check_aliases(instance: Any, attribute: attrs.Attribute, value: tuple[str, ...]) -> None:
    for alias in value:
        _check_name(instance, attribute, alias)
    if len(set(value)) != len(value) or instance.name in value:
        raise ValueError(f"metric {instance.name!r} names an alias twice or as itself: {list(value)}")


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        return (value,)
    return tuple(value)


@attrs.frozen
class Provenance:
    """A published source a definition was built from, cited by ``key``."""

    key: str = attrs.field(validator=_check_name)
    title: str


@attrs.frozen
class Parameter:
    """A value a project may set under ``[parameters]`` or with ``--param``.

    ``kind`` is one of ``str`` (a non-empty name), ``int``, ``float``, ``bool``, ``list`` (of
    non-empty names: ``"a,b"`` on the command line) and ``range`` (two numbers, low < high:
    ``"1,5"``); ``minimum`` and ``maximum`` bound a number. ``default`` None means "no default" (the metric says
    what that means).
    """

    name: str = attrs.field(validator=_check_name)
    default: Any
    description: str
    kind: str = attrs.field(default="str",
                            validator=attrs.validators.in_(("str", "int", "float", "bool", "list", "range")))
    minimum: float | None = None
    maximum: float | None = None  # e.g. what the engines' arithmetic on the value can hold
    required: bool = False  # a run that reads it (e.g. through a --by split) needs a value: no default reading


@attrs.frozen
class Figure:
    """A figure a vendor's product shows that a variant reproduces: the vendor (a provenance
    key), the figure's name in that product, and the ``compute`` options that give it (e.g.
    ``--grain day --window 30d``). docs/vendors.md is generated from these."""

    vendor: str = attrs.field(validator=_check_name)
    name: str
    options: str = ""
    note: str = ""


@attrs.frozen
class Example:
    """A worked example: the inputs an article gives and the value it states.

    ``inputs`` maps a measure name, or a metric reference written ``metric:variant``,
    to its value; the variant's formula evaluated on them (and on ``parameters``, else the
    parameters' defaults) must give ``expected`` (within ``tolerance``, relative; absolute
    when ``expected`` is 0).
    """

    text: str
    inputs: dict[str, float | None] = attrs.field(converter=dict)
    expected: float | None
    source: str = "industry"
    tolerance: float = 1e-9
    parameters: dict[str, Any] = attrs.field(factory=dict, converter=dict)
    """Values for the formula's ``param()``s; a parameter not given takes its default."""


@attrs.frozen
class MetricRef:
    """A reference from a formula to another metric; ``variant`` None = the project's default."""

    metric: str
    variant: str | None = None

    def __str__(self) -> str:
        return self.metric if self.variant is None else f"{self.metric}:{self.variant}"


@attrs.frozen
class LeftOut:
    """What a variant's value leaves out, counted in each period, for ``compute`` to say on
    stderr (e.g. the customers yet to reach value, whom time_to_value cannot count).

    ``count`` is a formula over measures, like a variant's (no ``ref()``, no keyed
    measures); ``what`` names what it counts, plural, and may name a parameter's value
    as ``{name}``.
    """

    count: str
    what: str


@attrs.frozen
class Variant:
    """One reading of a metric: a formula over measures and other metrics.

    The formula is dialect-neutral SQL over measure names, ``ref('metric'[, 'variant'])``,
    ``safe_div(a, b)`` and ``param('name')``; it is parsed once, at registration.
    """

    name: str = attrs.field(validator=_check_name)
    formula: str
    provenance: tuple[str, ...] = attrs.field(converter=_tuple, default=())
    description: str = ""
    unit: str | None = attrs.field(default=None, converter=_unit, validator=_check_unit)
    examples: tuple[Example, ...] = attrs.field(converter=_tuple, default=())
    splits: dict[str, str] = attrs.field(factory=dict, converter=dict)
    """``--by KEY`` readings that are not customer dimensions: KEY → a formula over
    measures keyed by KEY (e.g. ``{"step": "..."}`` for onboarding steps)."""
    left_out: LeftOut | None = None
    """What the value leaves out, counted per period and said by ``compute`` on stderr."""
    figures: tuple[Figure, ...] = attrs.field(converter=_tuple, default=())
    """The vendors' figures this variant reproduces (docs/vendors.md)."""


@attrs.frozen
class Metric:
    """A metric: a name, a unit and one or more variants, the first being the default.

    ``aliases`` are other names people type for it (``nrr``): ``compute -m``, ``explain`` and
    the other commands take them; results name the metric by its name."""

    name: str = attrs.field(validator=_check_name)
    unit: str = attrs.field(converter=_unit, validator=_check_unit)
    description: str
    variants: tuple[Variant, ...] = attrs.field(converter=_tuple)
    default_variant: str | None = None
    parameters: tuple[Parameter, ...] = attrs.field(converter=_tuple, default=())
    family: str = "custom"
    cohort_note: str | None = None
    """Says when a period's value can change as data arrives (a cohort figure); shown by explain."""
    notes: tuple[str, ...] = attrs.field(converter=_tuple, default=())
    """What else a reader of the numbers should know; shown by explain and the metric reference."""
    rejected: tuple[str, ...] = attrs.field(converter=_tuple, default=())
    """Published readings the metric does not follow, each with why; explain shows them beside
    the variants."""
    checks: tuple[Callable[[Mapping[str, Any]], str | None], ...] = attrs.field(converter=_tuple, default=())
    """Checks of the parameter values taken together, run before any variant of the metric is
    computed: each takes the run's values (name → value) and returns what is wrong, or None
    (e.g. customer_health_score's weights must sum to 1)."""
    aliases: tuple[str, ...] = attrs.field(converter=_tuple, default=(), validator=_check_aliases)

    def __attrs_post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"metric {self.name!r} has no variant")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"metric {self.name!r} names a variant twice: {names}")
        if self.default_variant is not None and self.default_variant not in names:
            raise ValueError(f"metric {self.name!r}: default variant {self.default_variant!r} is not one of {names}")

    @property
    def default(self) -> str:
        return self.default_variant or self.variants[0].name

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    def unit_of(self, variant: str) -> str:
        return self.variant(variant).unit or self.unit


@attrs.frozen
class Measure:
    """A per-period column a node provides, keyed by (grp, period_start).

    ``fill`` is the value of a period where the node has no row: 0 for counts and
    sums, None for means. A measure with a ``key`` is keyed by (grp, period_start, key):
    its node outputs a column named ``key`` and a row for every value of it in every
    period (the node decides the domain, e.g. every feature of a list).
    """

    name: str = attrs.field(validator=_check_name)
    description: str
    fill: float | None = 0
    key: str | None = None  # a dimension the rows carry besides the period (e.g. "feature")


@attrs.frozen
class Node:
    """One step of a plan, compiled to one named CTE.

    ``sql`` is a dialect-neutral SELECT that may read the canonical sources as
    ``src_<source>`` (or ``all_<source>``: every row, whatever its ``--by`` group,
    for what is taken from the whole source), the built-in nodes ``spine``,
    ``groups`` and ``grid``, and
    other nodes by name; ``:name`` placeholders are parameters (and the compiler's
    own ``:spine_start``, ``:spine_end``, ``:grain_months``: compared with a timestamp,
    the first two are the UTC instants of their dates' local midnights, docs/calendars.md);
    ``BUCKET(ts)`` is the start date of the period holding ``ts``'s local date,
    ``LOCAL_DATE(ts)`` that date (the project's ``[calendar] time_zone``), ``EPOCH_SECONDS(ts)`` seconds since
    1970, ``SAFE_DIV(a, b)`` a division that is NULL on a zero denominator. Every
    row carries ``grp`` (the ``--by`` group, 0 without ``--by``). A node with
    ``measures`` outputs ``grp, period_start`` and those columns. The sources,
    nodes and parameters a node reads are found in its SQL when it is registered.
    """

    name: str = attrs.field(validator=_check_name)
    step: str
    sql: str
    measures: tuple[Measure, ...] = attrs.field(converter=_tuple, default=())
    needs_by: str | None = None
    """A ``--by`` dimension without which the node's measures mean nothing (``cohort``: a
    cohort's figures need each group to be one cohort); a run without it is a usage error."""
    # how the node reads on trailing windows (--window; see csframe.core.windows): "sum" (each measure is
    # a sum over the rows of p: the window's value is the sum over its periods), "as_is" (the SQL is
    # right on windows as written: levels as of p.end, or it reads only steps that are), or None: not
    # defined on windows (a metric that reads it is refused), unless ``window_sql`` gives the SQL to
    # use on windows (it may read ``window_map`` and ``grid.window_start``, and ``:window_periods``)
    window: str | None = None
    window_sql: str | None = None
    alternative_to: str | None = None
    """The node whose measures this one computes too, by a cheaper route for runs that need
    nothing else of that node's steps: it declares some of that node's measures (same names,
    fill and key), reads no source or parameter that node does not, and gives the same
    numbers. Its measures stay the other node's; the planner reads them from here when the
    other node would add steps the run does not otherwise compute (e.g. M(p.end) alone: the
    +/- events summed per period, without the per-customer step). It is used on windows
    only if it says how it reads on them (``window``/``window_sql``)."""
