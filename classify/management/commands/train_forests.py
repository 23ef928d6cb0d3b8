import json

from django.core.management.base import BaseCommand, CommandError

from classify.cuts import DEFAULT_CUTS, QualityCuts
from classify.datasets import training_frame
from classify.forests import save_forest, train_forest
from classify.hadronic_models import HADRONIC_MODELS
from classify.simulation import simulate_showers

TRAINING_SEED = 20240611
REFERENCE_FACTOR = 10


class Command(BaseCommand):
    help = "Train one random forest per hadronic model on that model's simulated showers."

    def add_arguments(self, parser):
        parser.add_argument("--models", nargs="*", default=None, help="hadronic model keys")
        parser.add_argument("--seed", type=int, default=TRAINING_SEED)
        parser.add_argument(
            "--no-reference",
            action="store_true",
            help="skip the gradient-boosting reference (trained on 10x the data)",
        )
        parser.add_argument(
            "--max-core-distance", type=float, default=DEFAULT_CUTS.max_core_distance_m
        )
        parser.add_argument("--max-zenith", type=float, default=DEFAULT_CUTS.max_zenith_deg)
        parser.add_argument("--min-lg-n-e", type=float, default=DEFAULT_CUTS.min_lg_n_e)
        parser.add_argument("--min-lg-n-mu", type=float, default=DEFAULT_CUTS.min_lg_n_mu)
        parser.add_argument(
            "--no-precompute",
            action="store_true",
            help="do not start the new version's predictions",
        )

    def handle(self, *args, **options):
        keys = options["models"] or list(HADRONIC_MODELS)
        unknown = [key for key in keys if key not in HADRONIC_MODELS]
        if unknown:
            raise CommandError(
                f"unknown hadronic model(s) {', '.join(unknown)}; use {', '.join(HADRONIC_MODELS)}"
            )
        cuts = QualityCuts(
            max_core_distance_m=options["max_core_distance"],
            max_zenith_deg=options["max_zenith"],
            min_lg_n_e=options["min_lg_n_e"],
            min_lg_n_mu=options["min_lg_n_mu"],
        )
        for index, key in enumerate(keys):
            forest = train_hadronic_model(
                key, seed=options["seed"] + index, cuts=cuts, reference=not options["no_reference"]
            )
            card = forest.card
            summary = {
                "model": key,
                "version": card["version"],
                "accuracy": card["accuracy"],
                "reference_accuracy": card.get("reference_accuracy"),
                "model_file_bytes": card["model_file_bytes"],
            }
            self.stdout.write(json.dumps(summary))
            if not options["no_precompute"]:
                from classify.services import precompute_new_version

                precompute_new_version(key, version=card["version"], accuracy=card["accuracy"])


def train_hadronic_model(
    key: str, *, seed: int, cuts: QualityCuts = DEFAULT_CUTS, reference: bool = True
):
    showers = training_frame(key)
    reference_showers = None
    if reference:
        reference_showers = simulate_showers(
            REFERENCE_FACTOR * len(showers), hadronic_model=key, seed=seed + 7_000_000
        )
    forest = train_forest(
        showers, hadronic_model=key, seed=seed, cuts=cuts, reference_showers=reference_showers
    )
    save_forest(forest)
    return forest
