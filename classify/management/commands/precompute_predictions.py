import sys
import time

from django.core.management.base import BaseCommand, CommandError

from classify.forests import ForestMissing
from classify.hadronic_models import HADRONIC_MODELS
from classify.models import Dataset, PrecomputeBatch
from classify.services import current_version, start_precompute_many


class Command(BaseCommand):
    help = "Precompute every forest's predictions for every shower (Celery, or in-process)."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", action="append", default=None, help="dataset name")
        parser.add_argument("--model", action="append", default=None, help="hadronic model key")
        parser.add_argument("--wait", action="store_true", help="wait and show progress")
        parser.add_argument("--timeout", type=float, default=3600.0)
        parser.add_argument(
            "--in-process", action="store_true", help="compute here instead of on the workers"
        )

    def handle(self, *args, **options):
        datasets = Dataset.objects.all()
        if options["dataset"]:
            datasets = datasets.filter(name__in=options["dataset"])
            found = set(datasets.values_list("name", flat=True))
            missing = set(options["dataset"]) - found
            if missing:
                raise CommandError(f"no dataset named {', '.join(sorted(missing))}")
        keys = options["model"] or list(HADRONIC_MODELS)
        unknown = [key for key in keys if key not in HADRONIC_MODELS]
        if unknown:
            raise CommandError(f"unknown hadronic model(s): {', '.join(unknown)}")
        for key in keys:
            try:
                current_version(key)
            except ForestMissing as problem:
                raise CommandError(str(problem)) from None
        batch_ids = []
        for dataset in datasets:
            # One group of chunks per dataset: each chunk serves every forest asked for.
            batches = start_precompute_many(
                dataset_id=dataset.id,
                hadronic_models=keys,
                eager=True if options["in_process"] else None,
            )
            for batch in batches:
                batch_ids.append(batch.id)
                self.stdout.write(
                    f"{dataset.name} × {batch.hadronic_model}@{batch.model_version}: {batch.status}"
                )
        if options["wait"]:
            self.wait_for(batch_ids, timeout=options["timeout"])

    def wait_for(self, batch_ids, *, timeout: float):
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        while True:
            batches = list(PrecomputeBatch.objects.filter(id__in=batch_ids))
            done = sum(batch.done for batch in batches)
            total = sum(batch.total for batch in batches) or 1
            errors = sum(batch.errors for batch in batches)
            elapsed = max(time.monotonic() - started, 1e-6)
            self.stdout.write(progress_line(done, total, errors, elapsed), ending="\r")
            sys.stdout.flush()
            if all(batch.status == PrecomputeBatch.Status.DONE for batch in batches):
                self.stdout.write("")
                self.stdout.write(f"all {len(batches)} batch(es) complete")
                return
            if time.monotonic() > deadline:
                raise CommandError("timed out waiting for the predictions; is a worker running?")
            time.sleep(0.5)


def progress_line(done: int, total: int, errors: int, elapsed_s: float, width: int = 30) -> str:
    filled = int(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    return f"[{bar}] {done}/{total} ({100 * done / total:5.1f} %) {done / elapsed_s:8.0f}/s errors {errors}"
