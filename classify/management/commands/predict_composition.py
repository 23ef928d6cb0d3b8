import json
from pathlib import Path

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, no_translations

from classify.composition import composition_of
from classify.forests import ForestMismatch, ForestMissing, load_forest, predict_probabilities
from classify.hadronic_models import HADRONIC_MODELS
from classify.importing import ImportRefused, parse_kcdc_csv, read_file_bytes
from classify.physics import MASS_GROUPS


class Command(BaseCommand):
    help = "Predict the composition of the showers in a KCDC CSV with each hadronic-model forest."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV with the KCDC columns (labelled or not)")
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--label-column", default=None, help="column with the true mass group")

    # Operators read English: the refusals are translated for the upload page only.
    @no_translations
    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            parsed = parse_kcdc_csv(
                read_file_bytes(path), label_column=options["label_column"], ignore_unknown=True
            )
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"{path}: is a directory, not a CSV file") from None
        except ImportRefused as refusal:
            raise CommandError(f"{path}: refused: {refusal}") from None
        showers = pd.DataFrame.from_records(parsed.rows)
        result: dict = {"rows": len(showers), "models": {}}
        for key in HADRONIC_MODELS:
            try:
                forest = load_forest(key)
            except (ForestMissing, ForestMismatch) as problem:
                raise CommandError(str(problem)) from None
            probabilities = predict_probabilities(forest, showers)
            predicted = [MASS_GROUPS[i] for i in probabilities.argmax(axis=1)]
            result["models"][key] = {"version": forest.version, **composition_of(predicted)}
        if parsed.labelled:
            result["truth"] = composition_of(showers["mass_group"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(render_table(result))


def render_table(result: dict) -> str:
    header = f"{'forest':<16}" + "".join(f"{group:>8}" for group in MASS_GROUPS) + f"{'<lnA>':>9}"
    lines = [f"{result['rows']} showers; predicted fractions", header, "-" * len(header)]
    rows = list(result["models"].items())
    if "truth" in result:
        rows.append(("truth", result["truth"]))
    for key, composition in rows:
        fractions = "".join(f"{composition['fractions'][g]:>8.3f}" for g in MASS_GROUPS)
        lines.append(f"{key:<16}{fractions}{composition['mean_lnA']:>9.3f}")
    return "\n".join(lines)
