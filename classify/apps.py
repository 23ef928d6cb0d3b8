from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def warm_explore_after_activation(sender, **kwargs) -> None:
    """A new forest version changes every dataset's predicted composition: compute them ahead."""
    from .models import Dataset
    from .tasks import schedule_explore_warmup

    schedule_explore_warmup(list(Dataset.objects.values_list("id", flat=True)))


class ClassifyConfig(AppConfig):
    name = "classify"
    verbose_name = _("Showers and classifiers")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from .models import Dataset
        from .signals import forest_activated, lock_dataset_before_delete

        forest_activated.connect(warm_explore_after_activation, dispatch_uid="warm-explore")
        pre_delete.connect(
            lock_dataset_before_delete, sender=Dataset, dispatch_uid="lock-dataset-before-delete"
        )
