from django.core.management.base import BaseCommand, CommandError

from classify.datasets import create_simulated_dataset, default_specs
from classify.models import Dataset


class Command(BaseCommand):
    help = (
        "Simulate the default datasets of fixtures/datasets.json (training sets per hadronic "
        "model and the game deck), deterministically from their seeds."
    )

    def add_arguments(self, parser):
        parser.add_argument("--only", nargs="*", default=None, help="names of datasets to build")
        parser.add_argument(
            "--replace", action="store_true", help="rebuild datasets that exist already"
        )

    def handle(self, *args, **options):
        specs = default_specs()
        if options["only"]:
            unknown = set(options["only"]) - {spec.name for spec in specs}
            if unknown:
                raise CommandError(f"unknown dataset(s): {', '.join(sorted(unknown))}")
            specs = [spec for spec in specs if spec.name in options["only"]]
        for spec in specs:
            if Dataset.objects.filter(name=spec.name).exists() and not options["replace"]:
                self.stdout.write(f"{spec.name}: exists (use --replace to rebuild)")
                continue
            dataset = create_simulated_dataset(spec, replace=options["replace"])
            self.stdout.write(f"{dataset.name}: {dataset.shower_count} showers (seed {spec.seed})")
