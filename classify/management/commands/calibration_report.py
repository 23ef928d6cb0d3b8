import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classify.calibration import (
    DEFAULT_CALIBRATION_SCALE,
    calibration_report,
    load_kcdc_sample,
    simulate_calibration_sample,
    write_comparison_plot,
)

CALIBRATION_SEED = 2024


class Command(BaseCommand):
    help = (
        "Compare the simulation (the KCDC sample's composition, three hadronic models mixed) "
        "with the real KCDC sample: KS statistics, slopes and scatters."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--seed", type=int, default=CALIBRATION_SEED)
        parser.add_argument(
            "--scale",
            type=float,
            default=DEFAULT_CALIBRATION_SCALE,
            help="simulated showers per real shower",
        )
        parser.add_argument("--sample", default=None, help="path of the KCDC sample CSV")
        parser.add_argument(
            "--plot",
            default=str(settings.BASE_DIR / ".artifacts" / "calibration.html"),
            help="where to write the comparison plot ('' for none)",
        )

    def handle(self, *args, **options):
        sample_path = Path(options["sample"] or settings.KCDC_SAMPLE)
        if not sample_path.exists():
            raise CommandError(f"the KCDC sample is missing: {sample_path}")
        if options["scale"] <= 0:
            raise CommandError("--scale must be positive")
        reference = load_kcdc_sample(sample_path)
        simulated = simulate_calibration_sample(options["seed"], options["scale"])
        report = calibration_report(simulated, reference)
        if options["plot"]:
            plot_path = Path(options["plot"])
            plot_path.parent.mkdir(parents=True, exist_ok=True)
            write_comparison_plot(simulated, reference, plot_path)
            report["plot"] = str(plot_path)
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(render_table(report))


def render_table(report: dict) -> str:
    lines = [
        f"simulated {report['n_simulated']} showers vs {report['n_reference']} real (KCDC sample)",
        f"{'column':<8}{'KS':>8}   (threshold {report['thresholds']['ks_max']})",
    ]
    lines += [f"{column:<8}{value:>8.3f}" for column, value in report["ks"].items()]
    lines.append(f"{'':<8}{'simulated':>11}{'real':>9}{'rel. diff':>11}")
    for kind in ("slopes", "scatters"):
        for column, entry in report[kind].items():
            lines.append(
                f"{column + ' ' + kind[:-1]:<16}{entry['simulated']:>8.3f}{entry['reference']:>9.3f}"
                f"{100 * entry['relative_difference']:>10.1f} %"
            )
    lines.append("passed" if report["passed"] else "NOT PASSED")
    return "\n".join(lines)
