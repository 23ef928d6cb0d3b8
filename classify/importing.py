"""Reading KCDC CSV exports: validate everything first, then write in one transaction.

A refused file writes nothing. Every refusal names the line and the column,
so a user can find the bad cell in a spreadsheet.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from .columns import COLUMN_BY_KCDC, KCDC_COLUMNS, KCDC_NAMES
from .models import HADRONIC_MODEL_CHOICES, Dataset, Shower

DEFAULT_MAX_IMPORT_BYTES = 64 * 1024 * 1024
SAMPLE_ERRORS_SHOWN = 1

# Names a KCDC export or a user's own label column may use for each mass group.
MASS_GROUP_ALIASES: dict[str, str] = {
    "p": "p",
    "h": "p",
    "proton": "p",
    "1": "p",
    "he": "He",
    "helium": "He",
    "4": "He",
    "c": "C",
    "o": "C",
    "cno": "C",
    "co": "C",
    "c/o": "C",
    "carbon": "C",
    "oxygen": "C",
    "12": "C",
    "14": "C",
    "16": "C",
    "si": "Si",
    "silicon": "Si",
    "mg": "Si",
    "28": "Si",
    "fe": "Fe",
    "iron": "Fe",
    "56": "Fe",
}


class ImportRefused(ValueError):
    """The file cannot be imported; the message says where and why."""


@dataclass(frozen=True)
class ParsedShowers:
    rows: list[dict[str, float | str]]
    labelled: bool


def max_import_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", DEFAULT_MAX_IMPORT_BYTES))


def _decode(raw: bytes) -> str:
    try:
        text = codecs.decode(raw, "utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportRefused(
            f"line {line}: the file is not UTF-8 text (byte 0x{raw[error.start]:02x}); "
            "export the CSV again as UTF-8"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRefused(f"line {line}: the file contains NUL bytes; it is not a CSV text file")
    return text


def _label_value(raw: str, *, line: int, column: str) -> str:
    group = MASS_GROUP_ALIASES.get(raw.strip().lower())
    if group is None:
        raise ImportRefused(
            f"line {line}, column {column}: {raw.strip()!r} is not a mass group "
            "(use p, He, C, Si or Fe)"
        )
    return group


def _number(raw: str, *, line: int, column: str) -> float:
    text = raw.strip()
    if text == "":
        raise ImportRefused(f"line {line}, column {column}: the value is missing")
    try:
        value = float(text)
    except ValueError:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise ImportRefused(f"line {line}, column {column}: {shown!r} is not a number") from None
    if not math.isfinite(value):
        raise ImportRefused(f"line {line}, column {column}: {text} is not a finite number")
    spec = COLUMN_BY_KCDC[column]
    if not spec.minimum <= value <= spec.maximum:
        raise ImportRefused(
            f"line {line}, column {column}: {text} is outside the allowed range "
            f"{spec.minimum:g} … {spec.maximum:g} {spec.unit}"
        )
    return value


def parse_kcdc_csv(
    raw: bytes, *, label_column: str | None = None, ignore_unknown: bool = False
) -> ParsedShowers:
    """Check a whole KCDC CSV export and return its rows, or raise ImportRefused."""
    limit = max_import_bytes()
    if len(raw) > limit:
        raise ImportRefused(
            f"the file is {len(raw) / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB"
        )
    text = _decode(raw)
    if not text.strip():
        raise ImportRefused("the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise ImportRefused(f"line 1: the header is not valid CSV ({error})") from None
    _check_header(header, label_column=label_column, ignore_unknown=ignore_unknown)
    index = {name: position for position, name in enumerate(header)}
    rows: list[dict[str, float | str]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise ImportRefused(
                    f"line {line}: {len(record)} values, but the header has {len(header)} columns"
                )
            if [cell.strip() for cell in record] == header:
                raise ImportRefused(f"line {line}: the header is repeated inside the file")
            row: dict[str, float | str] = {
                name: _number(record[index[name]], line=line, column=name) for name in KCDC_NAMES
            }
            if label_column:
                row["mass_group"] = _label_value(
                    record[index[label_column]], line=line, column=label_column
                )
            rows.append(row)
    except csv.Error as error:
        raise ImportRefused(f"line {reader.line_num}: not valid CSV ({error})") from None
    if not rows:
        raise ImportRefused("the file has a header but no data rows")
    return ParsedShowers(rows=rows, labelled=bool(label_column))


def _check_header(header: list[str], *, label_column: str | None, ignore_unknown: bool) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ImportRefused(f"line 1: column {name!r} appears twice in the header")
        seen.add(name)
    missing = [name for name in KCDC_NAMES if name not in seen]
    if missing:
        raise ImportRefused(
            f"line 1: missing column(s) {', '.join(missing)}; a KCDC export has "
            f"{', '.join(KCDC_NAMES)}"
        )
    allowed = set(KCDC_NAMES) | ({label_column} if label_column else set())
    unknown = [name for name in header if name not in allowed]
    if unknown and not ignore_unknown:
        hint = "" if label_column else " (pass --label-column for a label column)"
        raise ImportRefused(f"line 1: unknown column(s) {', '.join(map(repr, unknown))}{hint}")
    if label_column and label_column not in seen:
        raise ImportRefused(f"line 1: the label column {label_column!r} is not in the header")


def import_showers(
    *,
    raw: bytes,
    name: str,
    label_column: str | None = None,
    hadronic_model: str | None = None,
    description: str = "",
) -> Dataset:
    """Validate a KCDC CSV export and store it as a dataset, all or nothing."""
    name = name.strip()
    if not name:
        raise ImportRefused("a dataset needs a name")
    if len(name) > Dataset._meta.get_field("name").max_length:
        raise ImportRefused("the dataset name is longer than 100 characters")
    valid_models = [key for key, _ in HADRONIC_MODEL_CHOICES]
    if hadronic_model and hadronic_model not in valid_models:
        raise ImportRefused(
            f"unknown hadronic model {hadronic_model!r}; use one of {', '.join(valid_models)}"
        )
    if Dataset.objects.filter(name=name).exists():
        raise ImportRefused(f"a dataset named {name!r} exists already; choose another name")
    parsed = parse_kcdc_csv(raw, label_column=label_column)
    with transaction.atomic():
        dataset = Dataset.objects.create(
            name=name,
            source=Dataset.Source.IMPORTED,
            purpose=Dataset.Purpose.EXPLORE,
            hadronic_model=hadronic_model or "",
            description=description or f"Imported KCDC export ({len(parsed.rows)} showers).",
            labelled=parsed.labelled,
            shower_count=len(parsed.rows),
        )
        store_showers(dataset=dataset, rows=parsed.rows, hadronic_model=hadronic_model or "")
    return dataset


def store_showers(
    *, dataset: Dataset, rows: Iterable[dict], hadronic_model: str = "", batch_size: int = 5000
) -> int:
    """Bulk-insert rows keyed by KCDC column names (plus optional mass_group/hadronic_model)."""
    showers = [
        Shower(
            dataset=dataset,
            row=position,
            mass_group=row.get("mass_group", "") or "",
            hadronic_model=row.get("hadronic_model", hadronic_model) or "",
            **{column.field: float(row[column.kcdc]) for column in KCDC_COLUMNS},
        )
        for position, row in enumerate(rows)
    ]
    Shower.objects.bulk_create(showers, batch_size=batch_size)
    return len(showers)


def read_file_bytes(path: Path | str | BinaryIO) -> bytes:
    """Read at most the import limit plus one byte, so a huge file is refused cheaply."""
    limit = max_import_bytes()
    if hasattr(path, "read"):
        return path.read(limit + 1)
    file_path = Path(path)
    size = file_path.stat().st_size
    if size > limit:
        raise ImportRefused(f"the file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB")
    return file_path.read_bytes()
