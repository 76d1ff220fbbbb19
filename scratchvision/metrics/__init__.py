"""Evaluation metrics: multi-object tracking (CLEAR MOT, identity, HOTA)."""

from .mot import HOTA_ALPHAS, SUMMARY_KEYS, MOTResult, combine_results, evaluate_mot, evaluate_mot_folder

__all__ = ["evaluate_mot", "evaluate_mot_folder", "combine_results", "MOTResult", "SUMMARY_KEYS", "HOTA_ALPHAS"]
