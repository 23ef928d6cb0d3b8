from django.core.management.base import BaseCommand, CommandError, no_translations

from classify.importing import ImportRefused, import_showers, read_file_bytes


class Command(BaseCommand):
    help = "Import a KCDC CSV export as a dataset (validated first; nothing is written if refused)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with the KCDC columns lgE,X,Y,Ze,Az,lgNe,lgNmu,Age")
        parser.add_argument("--name", required=True, help="name of the new dataset")
        parser.add_argument(
            "--label-column", default=None, help="column holding the true mass group"
        )
        parser.add_argument(
            "--hadronic-model", default=None, help="the model the showers come from, if known"
        )
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--no-precompute", action="store_true", help="do not start the forests' predictions"
        )

    # Operators read English: the refusals are translated for the upload page only.
    @no_translations
    def handle(self, *args, **options):
        try:
            raw = read_file_bytes(options["file"])
            dataset = import_showers(
                raw=raw,
                name=options["name"],
                label_column=options["label_column"],
                hadronic_model=options["hadronic_model"],
                description=options["description"],
            )
        except FileNotFoundError:
            raise CommandError(f"{options['file']}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{options['file']}: is a directory, not a CSV file") from None
        except ImportRefused as refusal:
            raise CommandError(f"{options['file']}: refused: {refusal}") from None
        self.stdout.write(
            f"imported {dataset.shower_count} showers into dataset {dataset.name!r}"
            + (" (labelled)" if dataset.labelled else "")
        )
        from classify.tasks import schedule_explore_warmup

        schedule_explore_warmup([dataset.id])
        if not options["no_precompute"]:
            from classify.services import start_precompute_for_dataset

            batches = start_precompute_for_dataset(dataset)
            self.stdout.write(f"precomputation started: {len(batches)} forest(s)")
