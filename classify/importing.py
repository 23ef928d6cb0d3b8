"""Reading KCDC CSV exports: validate everything first, then write in one transaction.

A refused file writes nothing. Every refusal names the line and the column,
so a user can find the bad cell in a spreadsheet. Refusals are written in the
active language (the staff member's on the upload page; English on the command
line, where no language is activated); their values are named placeholders, so a
translation may put them in any order.
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
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .columns import COLUMN_BY_KCDC, KCDC_COLUMNS, KCDC_NAMES
from .descriptions import IMPORTED
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


def too_large(size: int, limit: int) -> str:
    """The refusal of a file or upload of `size` bytes over the `limit`, in megabytes."""
    return _("the file is %(size)s MB; the limit is %(limit)s MB") % {
        "size": number_format(round(size / 1e6, 1), decimal_pos=1),
        "limit": number_format(round(limit / 1e6), decimal_pos=0),
    }


def _at(line: int, column: str) -> dict[str, object]:
    return {"line": line, "column": column}


def _decode(raw: bytes) -> str:
    try:
        text = codecs.decode(raw, "utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportRefused(
            _(
                "line %(line)s: the file is not UTF-8 text (byte 0x%(byte)s); "
                "export the CSV again as UTF-8"
            )
            % {"line": line, "byte": f"{raw[error.start]:02x}"}
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRefused(
            _("line %(line)s: the file contains NUL bytes; it is not a CSV text file")
            % {"line": line}
        )
    return text


def _label_value(raw: str, *, line: int, column: str) -> str:
    group = MASS_GROUP_ALIASES.get(raw.strip().lower())
    if group is None:
        raise ImportRefused(
            _(
                "line %(line)s, column %(column)s: %(value)s is not a mass group "
                "(use p, He, C, Si or Fe)"
            )
            % {**_at(line, column), "value": repr(raw.strip())}
        )
    return group


def _number(raw: str, *, line: int, column: str, decimal_comma: bool = False) -> float:
    text = raw.strip()
    if text == "":
        raise ImportRefused(
            _("line %(line)s, column %(column)s: the value is missing") % _at(line, column)
        )
    try:
        value = float(text.replace(",", ".") if decimal_comma else text)
    except ValueError:
        shown = text if len(text) <= 30 else text[:27] + "..."
        raise ImportRefused(
            _("line %(line)s, column %(column)s: %(value)s is not a number")
            % {**_at(line, column), "value": repr(shown)}
        ) from None
    if not math.isfinite(value):
        raise ImportRefused(
            _("line %(line)s, column %(column)s: %(value)s is not a finite number")
            % {**_at(line, column), "value": text}
        )
    spec = COLUMN_BY_KCDC[column]
    if not spec.minimum <= value <= spec.maximum:
        raise ImportRefused(
            _(
                "line %(line)s, column %(column)s: %(value)s is outside the allowed range "
                "%(minimum)s … %(maximum)s %(unit)s"
            )
            % {
                **_at(line, column),
                "value": text,
                "minimum": f"{spec.minimum:g}",
                "maximum": f"{spec.maximum:g}",
                "unit": spec.unit,
            }
        )
    return value


def _dialect(text: str) -> tuple[str, bool]:
    """The file's column separator, and whether its numbers have a decimal comma.

    KCDC writes commas between the columns and decimal points. A KCDC export opened
    and saved again by a spreadsheet in German or Russian has semicolons and decimal
    commas ("13,8003;-47,631;…"): it is read as it is, rather than refused for
    "missing" columns that are all there. The header decides: semicolons and no comma.
    """
    header = text.split("\n", 1)[0]
    if ";" in header and "," not in header:
        return ";", True
    return ",", False


def parse_kcdc_csv(
    raw: bytes, *, label_column: str | None = None, ignore_unknown: bool = False
) -> ParsedShowers:
    """Check a whole KCDC CSV export and return its rows, or raise ImportRefused."""
    limit = max_import_bytes()
    if len(raw) > limit:
        raise ImportRefused(too_large(len(raw), limit))
    text = _decode(raw)
    if not text.strip():
        raise ImportRefused(_("the file is empty"))
    delimiter, decimal_comma = _dialect(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise ImportRefused(
            _("line 1: the header is not valid CSV (%(error)s)") % {"error": error}
        ) from None
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
                    ngettext(
                        "line %(line)s: %(values)s value, but the header has %(columns)s columns",
                        "line %(line)s: %(values)s values, but the header has %(columns)s columns",
                        len(record),
                    )
                    % {"line": line, "values": len(record), "columns": len(header)}
                )
            if [cell.strip() for cell in record] == header:
                raise ImportRefused(
                    _("line %(line)s: the header is repeated inside the file") % {"line": line}
                )
            row: dict[str, float | str] = {
                name: _number(
                    record[index[name]], line=line, column=name, decimal_comma=decimal_comma
                )
                for name in KCDC_NAMES
            }
            if label_column:
                row["mass_group"] = _label_value(
                    record[index[label_column]], line=line, column=label_column
                )
            rows.append(row)
    except csv.Error as error:
        raise ImportRefused(
            _("line %(line)s: not valid CSV (%(error)s)")
            % {"line": reader.line_num, "error": error}
        ) from None
    if not rows:
        raise ImportRefused(_("the file has a header but no data rows"))
    return ParsedShowers(rows=rows, labelled=bool(label_column))


def _check_header(header: list[str], *, label_column: str | None, ignore_unknown: bool) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise ImportRefused(
                _("line 1: column %(column)s appears twice in the header") % {"column": repr(name)}
            )
        seen.add(name)
    missing = [name for name in KCDC_NAMES if name not in seen]
    if missing:
        raise ImportRefused(
            _("line 1: missing column(s) %(missing)s; a KCDC export has %(expected)s")
            % {"missing": ", ".join(missing), "expected": ", ".join(KCDC_NAMES)}
        )
    allowed = set(KCDC_NAMES) | ({label_column} if label_column else set())
    unknown = [name for name in header if name not in allowed]
    if unknown and not ignore_unknown:
        names = {"unknown": ", ".join(map(repr, unknown))}
        if label_column:
            raise ImportRefused(_("line 1: unknown column(s) %(unknown)s") % names)
        raise ImportRefused(
            _(
                "line 1: unknown column(s) %(unknown)s (a column with the true mass groups "
                "is imported when it is named as the label column)"
            )
            % names
        )
    if label_column and label_column not in seen:
        raise ImportRefused(
            _("line 1: the label column %(column)s is not in the header")
            % {"column": repr(label_column)}
        )


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
        raise ImportRefused(_("a dataset needs a name"))
    longest = Dataset._meta.get_field("name").max_length
    if len(name) > longest:
        raise ImportRefused(
            _("the dataset name is longer than %(limit)s characters") % {"limit": longest}
        )
    valid_models = [key for key, _label in HADRONIC_MODEL_CHOICES]
    if hadronic_model and hadronic_model not in valid_models:
        raise ImportRefused(
            _("unknown hadronic model %(model)s; use one of %(models)s")
            % {"model": repr(hadronic_model), "models": ", ".join(valid_models)}
        )
    if Dataset.objects.filter(name=name).exists():
        raise ImportRefused(
            _("a dataset named %(name)s exists already; choose another name") % {"name": repr(name)}
        )
    parsed = parse_kcdc_csv(raw, label_column=label_column)
    with transaction.atomic():
        dataset = Dataset.objects.create(
            name=name,
            source=Dataset.Source.IMPORTED,
            purpose=Dataset.Purpose.EXPLORE,
            hadronic_model=hadronic_model or "",
            # Stored in English; shown in the visitor's language (classify.descriptions).
            description=description or IMPORTED % {"count": len(parsed.rows)},
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
        raise ImportRefused(too_large(size, limit))
    return file_path.read_bytes()
