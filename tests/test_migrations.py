"""Migrations that alter a table by hand keep its rows, both ways, on the database in use."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

WITH_ID = [("classify", "0006_prediction_shower_without_database_constraint")]
COMPOSITE = [("classify", "0007_prediction_composite_primary_key")]

ROW = (
    "INSERT INTO classify_prediction (shower_id, hadronic_model, model_version, "
    "predicted_group, prob_p, prob_he, prob_c, prob_si, prob_fe) "
    "VALUES (%s, 'epos-lhc', 'v1', 'Fe', 0.1, 0.1, 0.1, 0.2, 0.5)"
)


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shower_id, hadronic_model, model_version, predicted_group, prob_fe "
            "FROM classify_prediction ORDER BY shower_id"
        )
        return [tuple(row) for row in cursor.fetchall()]


def refuses_duplicate(shower_id: int) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(ROW, [shower_id])
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db(transaction=True)
def test_the_prediction_key_migration_keeps_every_row_and_the_uniqueness_both_ways():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        migrate(WITH_ID)
        with connection.cursor() as cursor:
            for shower_id in (3, 1, 2):
                cursor.execute(ROW, [shower_id])
        before = rows()
        assert len(before) == 3

        migrate(COMPOSITE)
        assert rows() == before
        columns = {
            column.name
            for column in connection.introspection.get_table_description(
                connection.cursor(), "classify_prediction"
            )
        }
        assert "id" not in columns
        key = [
            constraint["columns"]
            for constraint in connection.introspection.get_constraints(
                connection.cursor(), "classify_prediction"
            ).values()
            if constraint["primary_key"]
        ]
        assert len(key) == 1 and set(key[0]) == {"shower_id", "hadronic_model", "model_version"}
        assert refuses_duplicate(2)
        assert not refuses_duplicate(4)

        migrate(WITH_ID)
        assert [row for row in rows() if row[0] != 4] == before
        assert refuses_duplicate(1)
    finally:
        migrate(latest)
