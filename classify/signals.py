from django.dispatch import Signal

# Sent after a forest version becomes the one the game reveals (kwargs: hadronic_model, version).
forest_activated = Signal()


def lock_dataset_before_delete(sender, instance, **kwargs) -> None:
    """pre_delete of a Dataset: lock its row FOR UPDATE before its showers go.

    Django sends pre_delete inside the deletion's transaction and before any
    row is deleted, for Model.delete and QuerySet.delete alike; a precompute
    chunk writing this dataset's predictions holds FOR KEY SHARE on the row
    (services.hold_dataset), so the deletion waits for it and then deletes its
    rows too (each statement sees what committed before it).
    """
    from .models import Dataset

    list(
        Dataset.objects.using(kwargs.get("using") or "default")
        .select_for_update()
        .filter(pk=instance.pk)
        .values_list("pk", flat=True)
    )
