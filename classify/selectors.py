"""What reads in the classify app: active forest versions, dealable showers, predictions."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from .hadronic_models import HADRONIC_MODELS
from .models import Dataset, ForestVersion, Prediction, Shower


def active_versions() -> dict[str, str]:
    """{hadronic model key: active version} for the forests the game reveals."""
    return dict(ForestVersion.objects.filter(active=True).values_list("hadronic_model", "version"))


def dealable_showers(showers: QuerySet[Shower] | None = None) -> QuerySet[Shower]:
    """Labelled game-deck showers that every forest's active version has answered.

    No active version for some forest means nothing is dealable: the game
    never shows a card without all three answers.
    """
    showers = showers if showers is not None else Shower.objects.all()
    versions = active_versions()
    if set(versions) != set(HADRONIC_MODELS):
        return showers.none()
    showers = showers.filter(dataset__purpose=Dataset.Purpose.DECK).exclude(mass_group="")
    for key, version in versions.items():
        showers = showers.filter(
            Exists(
                Prediction.objects.filter(
                    shower=OuterRef("pk"), hadronic_model=key, model_version=version
                )
            )
        )
    return showers


def predictions_for(shower_ids) -> dict[int, dict[str, Prediction]]:
    """{shower id: {model key: prediction}} from the active versions, in one query."""
    active = ForestVersion.objects.filter(
        active=True, hadronic_model=OuterRef("hadronic_model"), version=OuterRef("model_version")
    )
    result: dict[int, dict[str, Prediction]] = {}
    for prediction in Prediction.objects.filter(Exists(active), shower_id__in=list(shower_ids)):
        result.setdefault(prediction.shower_id, {})[prediction.hadronic_model] = prediction
    return {
        shower_id: {key: answers[key] for key in HADRONIC_MODELS if key in answers}
        for shower_id, answers in result.items()
    }
