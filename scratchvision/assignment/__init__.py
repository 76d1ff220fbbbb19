"""Optimal and greedy assignment (SciPy- and lap-compatible)."""

from .lsa import greedy_assignment, lapjv, linear_sum_assignment

__all__ = ["linear_sum_assignment", "lapjv", "greedy_assignment"]
