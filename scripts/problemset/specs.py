"""All shipped problems, in a stable order (one module per topic keeps each file small)."""

from __future__ import annotations

import p_basics
import p_dp
import p_graphs
import p_numbers
import p_prefix
import p_search
import p_sorting
import p_strings
from spec import ProblemSpec


def all_specs() -> list[ProblemSpec]:
    return [
        *p_basics.SPECS,
        *p_strings.SPECS,
        *p_sorting.SPECS,
        *p_prefix.SPECS,
        *p_dp.SPECS,
        *p_graphs.SPECS,
        *p_numbers.SPECS,
        *p_search.SPECS,
    ]
