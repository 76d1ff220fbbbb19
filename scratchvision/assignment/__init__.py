"""Optimal and greedy assignment (SciPy- and lap-compatible)."""

from .lsa import greedy_assignment, lapjv, linear_sum_assignment

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["linear_sum_assignment", "lapjv", "greedy_assignment"]
