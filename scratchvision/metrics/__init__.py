"""Evaluation metrics: multi-object tracking (CLEAR MOT, identity, HOTA)."""

from .mot import (HOTA_ALPHAS, SUMMARY_KEYS, TABLE_COLUMNS, MOTResult, combine_results, evaluate_mot,
                  evaluate_mot_folder, format_table)

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["evaluate_mot", "evaluate_mot_folder"]
__all__ += ["combine_results", "format_table", "MOTResult", "SUMMARY_KEYS", "HOTA_ALPHAS",
            "TABLE_COLUMNS"]
