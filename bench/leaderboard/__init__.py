"""Leaderboards: a pure function of the results store (or of a published board's figures).

    scores frame --select--> comparable groups --build--> boards of tables --render--> text

A group never mixes protocol hashes or split fingerprints; tables carry their marks (best,
second, baseline) so every format agrees. Importing this package does not import pandas or
matplotlib; the functions that need them do.

Submissions (``--publish``, ``--records``, ``--check``) are files: ``<board>.md``, its score
records ``<board>.scores.csv`` and test predictions ``<board>.predictions.csv.gz``. Read them
with ``read_records`` and ``read_predictions`` (the latter answers the results store's
prediction queries, so it stands in for a store), rebuild boards with ``from_records``,
publish with ``publish_checked`` and verify with ``check_submission``.
"""

from __future__ import annotations

from bench.leaderboard.boards import build_board, build_boards, reference_group, store_groups
from bench.leaderboard.compare_cells import (
    Comparison,
    compare_cells,
    compare_models,
    compare_sources,
)
from bench.leaderboard.display_names import Names
from bench.leaderboard.groups import comparable_groups, select
from bench.leaderboard.intervals import Bootstrap, IntervalSettings, group_bootstraps
from bench.leaderboard.make import BoardRequest, BoardSet, from_store, make_boards
from bench.leaderboard.mcnemar import mcnemar_exact
from bench.leaderboard.model import Board, Column, Context, Row, ScoreGroup, Table, Value
from bench.leaderboard.predictions import PublishedPredictions, predictions_path, read_predictions
from bench.leaderboard.reference import (
    REFERENCES,
    load_reference,
    published_labels,
    read_reference_csv,
    reference_names,
)
from bench.leaderboard.render.formats import FORMATS, format_for, render
from bench.leaderboard.submissions.check import Problem, check_submission, failures
from bench.leaderboard.submissions.publish import publish
from bench.leaderboard.submissions.records import from_records, read_records
from bench.leaderboard.submissions.submit import Publication, PublishRefused, publish_checked
from bench.leaderboard.summary import drop_table, rank_table, summary_tables
from bench.leaderboard.tables import aggregate, cross_dataset_table, same_dataset_table
from bench.leaderboard.versus_paper import compare_table

__all__ = [
    "FORMATS",
    "REFERENCES",
    "Board",
    "BoardRequest",
    "BoardSet",
    "Bootstrap",
    "Column",
    "Comparison",
    "Context",
    "IntervalSettings",
    "Names",
    "Problem",
    "Publication",
    "PublishRefused",
    "PublishedPredictions",
    "Row",
    "ScoreGroup",
    "Table",
    "Value",
    "aggregate",
    "build_board",
    "build_boards",
    "check_submission",
    "comparable_groups",
    "compare_cells",
    "compare_models",
    "compare_sources",
    "compare_table",
    "cross_dataset_table",
    "drop_table",
    "failures",
    "format_for",
    "from_records",
    "from_store",
    "group_bootstraps",
    "load_reference",
    "make_boards",
    "mcnemar_exact",
    "predictions_path",
    "publish",
    "publish_checked",
    "published_labels",
    "rank_table",
    "read_reference_csv",
    "reference_group",
    "read_predictions",
    "read_records",
    "reference_names",
    "render",
    "same_dataset_table",
    "select",
    "store_groups",
    "summary_tables",
]
