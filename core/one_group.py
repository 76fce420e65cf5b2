"""Without ``--by`` every row of every step carries ``grp = 0`` (the Node contract), so grouping or
partitioning by ``grp`` beside other keys only costs: a wider hash key in every per-customer
GROUP BY and window sort. :func:`drop_constant_group` takes it out of a node's tree:

* a window's PARTITION BY loses its ``grp`` columns (one partition either way);
* a GROUP BY that has other keys loses its ``grp`` columns, and a projection that is the bare
  column (``grp``, ``c.grp``) becomes ``0 AS grp``. A GROUP BY of ``grp`` alone is kept (without
  it an aggregate gives a row even on no input), and so is one whose SELECT reads ``grp``
  anywhere else after grouping (HAVING, ORDER BY, inside an expression): the numbers never change.
"""

from __future__ import annotations

__all__ = ["drop_constant_group"]

from sqlglot import exp
from sqlglot.optimizer.scope import find_all_in_scope

_BEFORE_GROUPING = ("from", "from_", "joins", "where", "group")


def _is_grp(node: exp.Expression) -> bool:
    return isinstance(node, exp.Column) and node.name.lower() == "grp"


def drop_constant_group(tree: exp.Expression) -> exp.Expression:
    """Take the constant ``grp`` out of the PARTITION BYs and GROUP BYs of ``tree``, in place."""
    for window in tree.find_all(exp.Window):
        partition = window.args.get("partition_by") or []
        kept = [e for e in partition if not _is_grp(e)]
        if len(kept) != len(partition):
            window.set("partition_by", kept or None)
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if group is None:
            continue
        keys = group.expressions
        others = [k for k in keys if not _is_grp(k)]
        if not others or len(others) == len(keys):
            continue
        bare = _bare_projections(select)
        if bare is None:
            continue
        group.set("expressions", others)
        for projection in bare:
            projection.replace(exp.alias_(exp.Literal.number(0), "grp"))
    return tree


def _bare_projections(select: exp.Select) -> list[exp.Expression] | None:
    """The projections of ``select`` that are the bare ``grp`` column (aliased ``grp`` or not), or
    None when ``select`` reads ``grp`` after grouping anywhere else (outside an aggregate)."""
    bare: list[exp.Expression] = []
    for col in find_all_in_scope(select, exp.Column):
        if not _is_grp(col) or isinstance(col.find_ancestor(exp.AggFunc, exp.Select), exp.AggFunc):
            continue  # another column, or read inside an aggregate
        child = col
        while child.parent is not select:
            child = child.parent
        if child.arg_key in _BEFORE_GROUPING:
            continue
        if child.arg_key == "expressions" and (child is col or (isinstance(child, exp.Alias) and child.this is col
                                                                and child.alias.lower() == "grp")):
            bare.append(child)
            continue
        return None
    return bare
