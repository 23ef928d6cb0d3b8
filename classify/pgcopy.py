"""PostgreSQL's binary COPY format, read and written with numpy.

A chunk of the precomputation reads 8 features per shower and writes one
prediction row per shower. Through the ORM, or COPY's text format with one
Python tuple per row, that per-row work cost more than the forest itself
(benchmarks/run.py, the precompute profile). In the binary format every field
is a big-endian length and value; with all fields NOT NULL and of fixed width
a row is a fixed-size record, so numpy decodes and encodes whole chunks as
structured arrays, with no Python object per row.

The format: PostgreSQL documentation, "COPY — File Formats — Binary Format"
(https://www.postgresql.org/docs/current/sql-copy.html): an 11-byte signature,
a 32-bit flags field, a 32-bit header-extension length and the extension,
then per row a 16-bit field count and per field a 32-bit length and the
bytes; a 16-bit -1 ends the data.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = SIGNATURE + struct.pack("!ii", 0, 0)
TRAILER = struct.pack("!h", -1)


class CopyFormatError(ValueError):
    """The bytes are not binary COPY data of the expected columns."""


def _record_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype:
    """A row of NOT NULL fixed-width fields: the field count, then (length, value) pairs."""
    layout = [("field_count", ">i2")]
    for name, kind in fields:
        layout += [(f"{name}_length", ">i4"), (name, kind)]
    return np.dtype(layout)


def decode_rows(data: bytes, fields: Sequence[tuple[str, str]]) -> np.ndarray:
    """The rows of `COPY … TO STDOUT (FORMAT BINARY)` as a structured array.

    `fields` names each column with its big-endian numpy type (">i8" for
    bigint, ">f8" for double precision); every value must be present and of
    that width, which the caller's SELECT guarantees (NOT NULL columns, casts).
    """
    if not data.startswith(SIGNATURE) or len(data) < len(HEADER) + len(TRAILER):
        raise CopyFormatError("not PostgreSQL binary COPY data")
    (extension,) = struct.unpack_from("!i", data, len(SIGNATURE) + 4)
    start = len(HEADER) + extension
    if not data.endswith(TRAILER):
        raise CopyFormatError("binary COPY data without its trailer")
    body = memoryview(data)[start : len(data) - len(TRAILER)]
    dtype = _record_dtype(fields)
    if len(body) % dtype.itemsize:
        raise CopyFormatError("binary COPY rows are not of the expected fixed width")
    rows = np.frombuffer(body, dtype=dtype)
    if len(rows) and (rows["field_count"] != len(fields)).any():
        raise CopyFormatError(f"expected {len(fields)} fields per row")
    for name, kind in fields:
        if len(rows) and (rows[f"{name}_length"] != np.dtype(kind).itemsize).any():
            raise CopyFormatError(f"column {name} holds NULLs or values of another width")
    return rows


def encode_prediction_rows(
    *,
    shower_ids: np.ndarray,
    hadronic_model: str,
    model_version: str,
    probabilities: np.ndarray,
    group_names: Sequence[str],
    group_index: np.ndarray,
) -> bytes:
    """Binary COPY data for the columns of PREDICTION_COPY_COLUMNS, one row per shower.

    The predicted group is text of one or two characters ("p", "He", …), the
    only field whose width varies; it is last in the row, so each row is a
    fixed record whose final byte is dropped where the name has one character.
    """
    count = len(shower_ids)
    model_bytes, version_bytes = hadronic_model.encode(), model_version.encode()
    names = [name.encode() for name in group_names]
    widest = max(len(name) for name in names)
    layout = [
        ("field_count", ">i2"),
        ("shower_length", ">i4"),
        ("shower_id", ">i8"),
        ("model_length", ">i4"),
        ("model", f"S{len(model_bytes)}"),
        ("version_length", ">i4"),
        ("version", f"S{len(version_bytes)}"),
    ]
    for column in range(probabilities.shape[1]):
        layout += [(f"p{column}_length", ">i4"), (f"p{column}", ">f8")]
    layout += [("group_length", ">i4"), ("group", f"S{widest}")]
    records = np.empty(count, dtype=np.dtype(layout))
    records["field_count"] = 4 + probabilities.shape[1]
    records["shower_length"] = 8
    records["shower_id"] = shower_ids
    records["model_length"] = len(model_bytes)
    records["model"] = model_bytes
    records["version_length"] = len(version_bytes)
    records["version"] = version_bytes
    for column in range(probabilities.shape[1]):
        records[f"p{column}_length"] = 8
        records[f"p{column}"] = probabilities[:, column]
    lengths = np.array([len(name) for name in names], dtype=np.int32)[group_index]
    records["group_length"] = lengths
    records["group"] = np.array(names, dtype=f"S{widest}")[group_index]
    raw = records.view(np.uint8).reshape(count, records.dtype.itemsize)
    keep = np.ones(raw.shape, dtype=bool)
    for missing in range(1, widest):
        # the padding bytes after shorter names
        keep[:, raw.shape[1] - missing] = lengths > widest - missing
    return HEADER + raw[keep].tobytes() + TRAILER
