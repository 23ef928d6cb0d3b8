"""Build whatever default data is missing: datasets, forests, predictions.

Called by `make setup` after the migrations. Every step checks first, so a
second `make run` does no work: datasets are simulated only when absent,
forests trained only when their file is missing or was made for other
features or another scikit-learn, predictions computed only where missing.
Everything runs in this process, so set-up never waits for a worker.
"""

from django.core.management.base import BaseCommand

from classify.aggregates import cache_is_shared, warm_explore_caches
from classify.datasets import ensure_default_datasets
from classify.forests import ForestMismatch, ForestMissing, load_forest
from classify.hadronic_models import HADRONIC_MODELS
from classify.reference import ensure_reference
from classify.services import ensure_predictions, register_forest_version
from kascade_game.decks import rebuild_deck
from kascade_game.models import DeckEntry


def ensure_forests(*, stdout) -> None:
    from classify.management.commands.train_forests import TRAINING_SEED, train_hadronic_model

    for index, key in enumerate(HADRONIC_MODELS):
        try:
            forest = load_forest(key)
        except (ForestMissing, ForestMismatch) as reason:
            stdout.write(f"training the {key} forest ({reason})")
            forest = train_hadronic_model(key, seed=TRAINING_SEED + index)
        register_forest_version(key, version=forest.version, accuracy=forest.card.get("accuracy"))


class Command(BaseCommand):
    help = "Create the default datasets, trained forests and predictions when missing."

    def handle(self, *args, **options):
        ensure_default_datasets(stdout=self.stdout)
        ensure_forests(stdout=self.stdout)
        ensure_predictions(stdout=self.stdout)
        ensure_reference(stdout=self.stdout)
        if not DeckEntry.objects.exists():
            self.stdout.write(f"game deck: {rebuild_deck()} cards")
        if cache_is_shared():
            warmed = warm_explore_caches()
            self.stdout.write(f"explore: aggregates of {warmed} dataset(s) cached")
        self.stdout.write("default data: up to date")
