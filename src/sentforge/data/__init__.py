"""Data in: load files and tables, name the columns' roles, and check the data before training."""

from .checks import CountTokens, diagnose
from .label_checks import PairSimilarity
from .load import DEFAULT_MAX_CELL_CHARS, load_data, pick_split
from .report import DoctorReport, Finding
from .roles import (
    LABEL_COLUMN_NAMES,
    ColumnRoles,
    apply_column_mapping,
    infer_roles,
    normalize_labels,
)
from .shared_sets import (
    RetrievalSet,
    load_mrpc,
    load_nli_triplets,
    load_scifact,
    load_scifact_pairs,
    load_stsb,
    shared_data_root,
)

__all__ = [
    "DEFAULT_MAX_CELL_CHARS",
    "LABEL_COLUMN_NAMES",
    "ColumnRoles",
    "CountTokens",
    "DoctorReport",
    "Finding",
    "PairSimilarity",
    "RetrievalSet",
    "apply_column_mapping",
    "diagnose",
    "infer_roles",
    "load_data",
    "load_mrpc",
    "load_nli_triplets",
    "load_scifact",
    "load_scifact_pairs",
    "load_stsb",
    "normalize_labels",
    "pick_split",
    "shared_data_root",
]
