"""Import of KCDC CSV exports: the real sample goes in, every malformed file is refused whole."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from classify.models import Dataset, Shower

HEADER = "lgE,X,Y,Ze,Az,lgNe,lgNmu,Age"
GOOD_ROW = "14.1,-12.5,30.2,21.0,120.5,3.6,3.2,1.1"


def kcdc_sample() -> Path:
    path = Path(settings.KCDC_SAMPLE)
    if not path.exists():
        pytest.fail(f"the KCDC sample is missing at {path} (../shared/kcdc/dataset1.csv)")
    return path


def run_import(path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command("import_showers", str(path), *extra, "--no-precompute", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_real_kcdc_sample_imports_all_2940_showers_unlabelled():
    output = run_import(kcdc_sample(), "--name", "kcdc-sample")
    dataset = Dataset.objects.get(name="kcdc-sample")
    assert "imported 2940 showers" in output
    assert dataset.shower_count == 2940 == dataset.showers.count()
    assert dataset.source == Dataset.Source.IMPORTED
    assert not dataset.labelled
    first = dataset.showers.get(row=0)
    assert (first.lg_e, first.zenith_deg, first.lg_n_mu) == pytest.approx(
        (13.8003, 18.6648, 3.04076)
    )
    assert not dataset.showers.exclude(mass_group="").exists()


@pytest.mark.django_db
def test_a_labelled_export_keeps_its_mass_groups(tmp_path):
    path = tmp_path / "labelled.csv"
    rows = [f"{GOOD_ROW},{label}" for label in ("p", "He", "O", "Si", "iron")]
    path.write_text("\n".join([HEADER + ",primary", *rows]) + "\n")
    run_import(
        path, "--name", "labelled", "--label-column", "primary", "--hadronic-model", "epos-lhc"
    )
    dataset = Dataset.objects.get(name="labelled")
    assert dataset.labelled and dataset.hadronic_model == "epos-lhc"
    assert list(dataset.showers.order_by("row").values_list("mass_group", flat=True)) == [
        "p",
        "He",
        "C",
        "Si",
        "Fe",
    ]


@pytest.mark.django_db
def test_an_export_saved_again_by_a_german_spreadsheet_reads_as_the_original(tmp_path):
    # Semicolons between the columns and decimal commas, as German or Russian Excel saves.
    lines = kcdc_sample().read_text().splitlines()[:41]
    spreadsheet = [line.replace(",", ";").replace(".", ",") for line in lines]
    original, resaved = tmp_path / "original.csv", tmp_path / "resaved.csv"
    original.write_text("\n".join(lines) + "\n")
    resaved.write_text("\n".join(spreadsheet) + "\n")
    assert spreadsheet[1].startswith("13,8003;-47,631;")
    run_import(original, "--name", "original")
    run_import(resaved, "--name", "resaved")
    fields = ("row", "lg_e", "core_x_m", "core_y_m", "zenith_deg", "azimuth_deg", "lg_n_e")
    ours = list(Shower.objects.filter(dataset__name="resaved").order_by("row").values_list(*fields))
    kcdc = list(
        Shower.objects.filter(dataset__name="original").order_by("row").values_list(*fields)
    )
    assert len(ours) == 40 and ours == kcdc


def _bad_files() -> dict[str, tuple[bytes, str]]:
    good = [GOOD_ROW] * 5
    csv = lambda *lines: ("\n".join(lines) + "\n").encode()  # noqa: E731
    return {
        "missing_column": (
            csv("lgE,X,Y,Ze,Az,lgNe,Age", "14,0,0,10,10,3,1"),
            "missing column(s) lgNmu",
        ),
        "unknown_column": (csv(HEADER + ",Energy", GOOD_ROW + ",3"), "unknown column(s) 'Energy'"),
        "nan": (
            csv(HEADER, *good, "14.1,0,0,nan,10,3,3,1"),
            "line 7, column Ze: nan is not a finite number",
        ),
        "inf": (
            csv(HEADER, "14.1,0,0,10,10,inf,3,1"),
            "line 2, column lgNe: inf is not a finite number",
        ),
        "text_in_number": (
            csv(HEADER, *good, "14.1,0,0,10,10,3.5,many,1"),
            "line 7, column lgNmu: 'many' is not a number",
        ),
        "zenith_out_of_range": (
            csv(HEADER, "14.1,0,0,95,10,3,3,1"),
            "line 2, column Ze: 95 is outside the allowed range 0 … 90 °",
        ),
        "azimuth_negative": (
            csv(HEADER, "14.1,0,0,10,-5,3,3,1"),
            "line 2, column Az: -5 is outside the allowed range",
        ),
        "empty_file": (b"", "the file is empty"),
        "header_only": (csv(HEADER), "the file has a header but no data rows"),
        "duplicated_header_column": (
            csv(HEADER + ",lgE", GOOD_ROW + ",14"),
            "column 'lgE' appears twice in the header",
        ),
        "repeated_header_line": (
            csv(HEADER, *good, HEADER, GOOD_ROW),
            "line 7: the header is repeated inside the file",
        ),
        "latin1_encoding": (
            csv(HEADER + ",Bemerkung").replace(b"Bemerkung", "Höhe".encode("latin-1")),
            "line 1: the file is not UTF-8 text",
        ),
        "short_row": (
            csv(HEADER, "14.1,0,0,10,10,3"),
            "line 2: 6 values, but the header has 8 columns",
        ),
        "missing_value": (
            csv(HEADER, "14.1,0,0,10,10,,3,1"),
            "line 2, column lgNe: the value is missing",
        ),
        "binary": (b"\x00\x01\x02" * 100, "NUL bytes"),
        "spreadsheet_thousands_separator": (
            (b"lgE;X;Y;Ze;Az;lgNe;lgNmu;Age\n14,1;1.000,5;0;10;10;3;3;1\n"),
            "line 2, column X: '1.000,5' is not a number",
        ),
    }


BAD_FILES = _bad_files()


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_malformed_file_is_refused_with_line_and_column_and_nothing_is_written(tmp_path, case):
    content, expected = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as refusal:
        run_import(path, "--name", case)
    assert expected in str(refusal.value)
    assert not Dataset.objects.exists()
    assert not Shower.objects.exists()


@pytest.mark.django_db
def test_a_bad_last_row_of_the_real_sample_writes_nothing(tmp_path):
    path = tmp_path / "almost.csv"
    path.write_text(kcdc_sample().read_text() + "14.1,0,0,10,10,3.5,3.2,NaN\n")
    with pytest.raises(CommandError, match="line 2942, column Age"):
        run_import(path, "--name", "almost")
    assert not Shower.objects.exists()


@pytest.mark.django_db
def test_a_100_mb_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write((HEADER + "\n").encode())
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB on paper, nothing on disk
    with pytest.raises(CommandError, match=r"the file is 104\.9 MB; the limit is 67 MB"):
        run_import(path, "--name", "huge")
    assert not Dataset.objects.exists()


@pytest.mark.django_db
def test_an_unknown_label_and_a_taken_name_are_refused(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text(f"{HEADER},label\n{GOOD_ROW},neutrino\n")
    with pytest.raises(CommandError, match="line 2, column label: 'neutrino' is not a mass group"):
        run_import(path, "--name", "labels", "--label-column", "label")
    path.write_text(f"{HEADER}\n{GOOD_ROW}\n")
    run_import(path, "--name", "taken")
    with pytest.raises(CommandError, match="a dataset named 'taken' exists already"):
        run_import(path, "--name", "taken")
    assert Dataset.objects.count() == 1


@pytest.mark.django_db
def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import(tmp_path / "nope.csv", "--name", "nope")
