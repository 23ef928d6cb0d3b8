"""Build whatever default data is missing: datasets, forests, predictions.

Called by `make setup` after the migrations. Every step checks first, so a
second `make run` does no work. Each step is a function registered in
DEFAULT_STEPS; the data, forest and prediction issues add theirs.
"""

from django.core.management.base import BaseCommand

DEFAULT_STEPS: list = []


class Command(BaseCommand):
    help = "Create the default datasets, trained forests and predictions when missing."

    def handle(self, *args, **options):
        for step in DEFAULT_STEPS:
            step(stdout=self.stdout)
        self.stdout.write("default data: up to date")
