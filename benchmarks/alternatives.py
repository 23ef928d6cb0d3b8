"""Measured alternatives for the precompute profile (bench only; the app does not use them).

The write path the service used before the binary COPY (classify/pgcopy.py):
COPY's text format with one Python tuple per row into a temporary table, then
one INSERT … ON CONFLICT DO UPDATE into the predictions table. Timed on the
same rows as the service's path, so the profile shows what the change bought.
"""

from __future__ import annotations

import numpy as np
from django.db import connection, transaction

from classify.models import Prediction
from classify.physics import MASS_GROUPS

STAGE = "bench_prediction_stage"
PROBABILITY_COLUMNS = ("prob_p", "prob_he", "prob_c", "prob_si", "prob_fe")


def copy_upsert(
    *, shower_ids: np.ndarray, probabilities: np.ndarray, hadronic_model: str, model_version: str
) -> None:
    table = Prediction._meta.db_table
    best = probabilities.argmax(axis=1)
    groups = [MASS_GROUPS[int(index)] for index in best]
    columns = ", ".join(PROBABILITY_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (shower_id bigint, predicted_group varchar(2), "
            + ", ".join(f"{name} double precision" for name in PROBABILITY_COLUMNS)
            + ") ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {STAGE} (shower_id, predicted_group, {columns}) FROM STDIN") as copy:
            for shower_id, group, row in zip(
                shower_ids.tolist(), groups, probabilities.tolist(), strict=True
            ):
                copy.write_row((shower_id, group, *row))
        updates = ", ".join(
            f"{name} = EXCLUDED.{name}" for name in ("predicted_group", *PROBABILITY_COLUMNS)
        )
        cursor.execute(
            f"INSERT INTO {table} (shower_id, hadronic_model, model_version, predicted_group, {columns}) "
            f"SELECT shower_id, %s, %s, predicted_group, {columns} FROM {STAGE} "
            f"ON CONFLICT (shower_id, hadronic_model, model_version) DO UPDATE SET {updates}",
            [hadronic_model, model_version],
        )
