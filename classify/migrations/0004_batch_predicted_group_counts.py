"""Counts of each predicted group on PrecomputeBatch, kept with the rows.

The batches that exist are counted once from their predictions.
"""

from django.db import migrations, models
from django.db.models import Count

FIELDS = {
    "p": "predicted_p",
    "He": "predicted_he",
    "C": "predicted_c",
    "Si": "predicted_si",
    "Fe": "predicted_fe",
}


def count_existing_batches(apps, schema_editor):
    PrecomputeBatch = apps.get_model("classify", "PrecomputeBatch")
    Prediction = apps.get_model("classify", "Prediction")
    for batch in PrecomputeBatch.objects.all():
        counts = dict.fromkeys(FIELDS.values(), 0)
        rows = (
            Prediction.objects.filter(
                shower__dataset_id=batch.dataset_id,
                hadronic_model=batch.hadronic_model,
                model_version=batch.model_version,
            )
            .values_list("predicted_group")
            .annotate(n=Count("id"))
            .order_by()
        )
        for group, n in rows:
            counts[FIELDS[group]] += n
        PrecomputeBatch.objects.filter(id=batch.id).update(**counts)


class Migration(migrations.Migration):
    dependencies = [
        ("classify", "0003_shower_sort_indexes"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="precomputebatch",
                name=name,
                field=models.PositiveIntegerField(default=0),
            )
            for name in FIELDS.values()
        ),
        migrations.RunPython(count_existing_batches, migrations.RunPython.noop),
    ]
