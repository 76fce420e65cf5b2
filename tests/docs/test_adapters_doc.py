"""docs/adapters.md documents every member of the adapter protocol (csframe.core.adapter.Adapter):
an attribute or method added to the protocol without a line in the page fails here."""

from __future__ import annotations

import re
from pathlib import Path

from csframe.core.adapter import Adapter

PAGE = Path(__file__).resolve().parents[2] / "docs" / "adapters.md"


def _members() -> set[str]:
    names = set(Adapter.__annotations__)
    names |= {n for n, v in vars(Adapter).items() if callable(v) or isinstance(v, classmethod)}
    return {n for n in names if not n.startswith("_") or n == "__init__"} - {"_is_protocol"}


def test_the_page_lists_every_member_of_the_protocol():
    text = PAGE.read_text(encoding="utf-8")
    listed = set(re.findall(r"`([A-Za-z_]+)(?:\(|`)", text))
    members = _members()
    assert len(members) >= 19, members  # the protocol is read, not an empty set
    missing = sorted(members - listed)
    assert not missing, f"docs/adapters.md does not list {missing}: add each to its table of members"


def test_every_member_has_a_docstring_or_a_line_saying_what_it_is():
    undocumented = [n for n, v in vars(Adapter).items()
                    if callable(v) and not n.startswith("_") and not (v.__doc__ or "").strip()]
    assert not undocumented, f"document {undocumented} in core/adapter.py (docs/adapters.md points there)"
