"""The Explore table's indexes: one per sortable column, (dataset, column, row, id).

See classify.models._sort_indexes for why each column is there.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("classify", "0002_prediction_indexes_for_bulk_writes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("lg_e"),
                models.F("row"),
                models.F("id"),
                name="shower_by_lg_e",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("core_x_m"),
                models.F("row"),
                models.F("id"),
                name="shower_by_core_x_m",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("core_y_m"),
                models.F("row"),
                models.F("id"),
                name="shower_by_core_y_m",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("zenith_deg"),
                models.F("row"),
                models.F("id"),
                name="shower_by_zenith_deg",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("azimuth_deg"),
                models.F("row"),
                models.F("id"),
                name="shower_by_azimuth_deg",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("lg_n_e"),
                models.F("row"),
                models.F("id"),
                name="shower_by_lg_n_e",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("lg_n_mu"),
                models.F("row"),
                models.F("id"),
                name="shower_by_lg_n_mu",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.F("age"),
                models.F("row"),
                models.F("id"),
                name="shower_by_age",
            ),
        ),
        migrations.AddIndex(
            model_name="shower",
            index=models.Index(
                models.F("dataset"),
                models.Case(
                    models.When(mass_group="p", then=models.Value(0)),
                    models.When(mass_group="He", then=models.Value(1)),
                    models.When(mass_group="C", then=models.Value(2)),
                    models.When(mass_group="Si", then=models.Value(3)),
                    models.When(mass_group="Fe", then=models.Value(4)),
                    default=models.Value(5),
                    output_field=models.IntegerField(),
                ),
                models.F("row"),
                models.F("id"),
                name="shower_by_mass_order",
            ),
        ),
    ]
