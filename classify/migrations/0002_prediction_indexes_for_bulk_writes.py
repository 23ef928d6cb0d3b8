"""Fewer indexes on Prediction: each one is written once per row by the precomputation.

* (hadronic_model, model_version): no query needs it; those that filter on a
  version also name the showers (a dataset's id range, a deck), which the
  unique (shower, model, version) index serves.
* shower_id alone: the unique (shower, model, version) index leads with the
  same column. Dropped with plain SQL rather than Django's AlterField, which
  on PostgreSQL would also drop and re-validate the foreign key, and on
  SQLite rebuild the table.
"""

import django.db.models.deletion
from django.db import migrations, models

SHOWER_INDEX = "classify_prediction_shower_id_26d8efe4"


class Migration(migrations.Migration):
    dependencies = [
        ("classify", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="prediction",
            name="classify_pr_hadroni_c2e136_idx",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="prediction",
                    name="shower",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="predictions",
                        to="classify.shower",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f"DROP INDEX IF EXISTS {SHOWER_INDEX}",
                    reverse_sql=f"CREATE INDEX {SHOWER_INDEX} ON classify_prediction (shower_id)",
                ),
            ],
        ),
    ]
