"""Calibration against the real KCDC sample, through the command the contract names."""

from __future__ import annotations

import io
import json

from django.core.management import call_command


def test_calibration_report_json_has_the_contract_shape_and_meets_the_thresholds(tmp_path):
    out = io.StringIO()
    plot = tmp_path / "calibration.html"
    call_command("calibration_report", "--format", "json", "--plot", str(plot), stdout=out)
    report = json.loads(out.getvalue())
    assert set(report["ks"]) == {"lgE", "Ze", "lgNe", "lgNmu", "Age"}
    # The full-size sample (8 simulated showers per real one): the thresholds apply as they are.
    assert all(value <= 0.08 for value in report["ks"].values()), report["ks"]
    for kind in ("slopes", "scatters"):
        for column, entry in report[kind].items():
            assert abs(entry["relative_difference"]) <= 0.15, (kind, column, entry)
    assert report["passed"] is True
    assert plot.exists() and plot.stat().st_size > 1000


def test_calibration_report_table_names_every_column():
    out = io.StringIO()
    call_command(
        "calibration_report", "--format", "table", "--plot", "", "--scale", "2", stdout=out
    )
    text = out.getvalue()
    for column in ("lgE", "Ze", "lgNe", "lgNmu", "Age", "lgNe slope", "lgNmu scatter"):
        assert column in text
