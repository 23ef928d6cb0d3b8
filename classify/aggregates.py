"""What the Explore section reads: sorted pages, binned histograms and compositions.

Everything is computed in the database (ORDER BY … LIMIT, GROUP BY on a bin
index) so a 100,000-shower dataset never travels into Python. Results that
cannot change — a dataset's showers are written once — are kept in Django's
cache per dataset (and, for compositions, per set of active forest
versions). The cache is a convenience: when it is down, the numbers are
computed again and the page still renders.

The bin index of a value is ``min(bins - 1, floor((value - low) / width))``:
``Floor`` then a cast to an integer, which PostgreSQL and SQLite evaluate the
same way (SQLite gets FLOOR from Django's own function table).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    Value,
)
from django.db.models.functions import Cast, Floor, Least
from django.utils.translation import gettext as _

from .columns import COLUMN_BY_KCDC, KCDC_COLUMNS
from .hadronic_models import HADRONIC_MODELS
from .models import MASS_ORDER, Dataset, PrecomputeBatch, Prediction, Shower
from .physics import GROUP_LABELS, LN_A, MASS_GROUPS
from .selectors import active_versions

logger = logging.getLogger(__name__)

CACHE_PREFIX = "explore:v2"
CACHE_SECONDS = 24 * 3600
PER_PAGE = 25
MIN_BINS = 5
MAX_BINS = 100
DEFAULT_BINS = 40
BINS_2D = 30
DEFAULT_COLUMN = "lgE"
FOOTPRINT = ("X", "Y")
SIZES = ("lgNe", "lgNmu")

# Sort keys of the table: every KCDC column, the row number, and the true group.
GROUP_SORT = "group"
ROW_SORT = "row"


class BadParameter(ValueError):
    """A query parameter the Explore views cannot honour (answered with a 400)."""


# --- the cache, never in the way ---------------------------------------------------------


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # a cache outage must never break a page
        logger.warning("explore cache unavailable (get %s)", key, exc_info=True)
        return None


def _cache_set(key: str, value: Any, timeout: int = CACHE_SECONDS) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.warning("explore cache unavailable (set %s)", key, exc_info=True)


def dataset_key(dataset: Dataset) -> str:
    """Unique for the dataset's content: ids can be reused after a delete, timestamps not."""
    created = dataset.created.timestamp() if dataset.created else 0
    return f"{dataset.id}-{created:.6f}-{dataset.shower_count}"


def _cached(key: str, compute: Callable[[], Any], *, store: Callable[[Any], bool] | None = None):
    full_key = f"{CACHE_PREFIX}:{key}"
    value = _cache_get(full_key)
    if value is not None:
        return value
    value = compute()
    if store is None or store(value):
        _cache_set(full_key, value)
    return value


# --- parameters --------------------------------------------------------------------------


def sort_keys(dataset: Dataset) -> list[str]:
    keys = [ROW_SORT, *(column.kcdc for column in KCDC_COLUMNS)]
    if dataset.labelled:
        keys.append(GROUP_SORT)
    return keys


def sort_field(dataset: Dataset, sort: str) -> str:
    if sort == ROW_SORT:
        return "row"
    if sort == GROUP_SORT and dataset.labelled:
        return "mass_group"
    column = COLUMN_BY_KCDC.get(sort)
    if column is None:
        raise BadParameter(
            _("cannot sort by %(sort)s; choose one of %(choices)s")
            % {"sort": repr(sort), "choices": ", ".join(sort_keys(dataset))}
        )
    return column.field


def column_spec(name: str):
    column = COLUMN_BY_KCDC.get(name)
    if column is None:
        raise BadParameter(
            _("unknown column %(column)s; choose one of %(choices)s")
            % {"column": repr(name), "choices": ", ".join(c.kcdc for c in KCDC_COLUMNS)}
        )
    return column


def clamp_bins(bins: int) -> int:
    return max(MIN_BINS, min(MAX_BINS, bins))


# --- counts and ranges -------------------------------------------------------------------


def dataset_stats(dataset: Dataset) -> dict:
    """The dataset's size, each column's range, and whether its rows are numbered 0 … n-1.

    Only MIN and MAX in one query, so PostgreSQL answers each from an end of
    the column's sort index (classify.models._sort_indexes) instead of
    scanning the dataset; the size is a separate count.
    """

    def compute():
        aggregates = {"row_low": Min("row"), "row_high": Max("row")}
        for column in KCDC_COLUMNS:
            aggregates[f"{column.field}__min"] = Min(column.field)
            aggregates[f"{column.field}__max"] = Max(column.field)
        showers = Shower.objects.filter(dataset=dataset)
        result = showers.aggregate(**aggregates)
        n = showers.count()
        return {
            "total": n,
            "ranges": {
                column.kcdc: (result[f"{column.field}__min"], result[f"{column.field}__max"])
                for column in KCDC_COLUMNS
            },
            # Rows are unique per dataset, so n of them between 0 and n-1 are all of 0 … n-1.
            "rows_dense": bool(n) and result["row_low"] == 0 and result["row_high"] == n - 1,
        }

    return _cached(f"stats:{dataset_key(dataset)}", compute)


def shower_total(dataset: Dataset) -> int:
    return dataset_stats(dataset)["total"]


def column_ranges(dataset: Dataset) -> dict[str, tuple[float, float]]:
    """{KCDC name: (min, max)} of every column."""
    return dataset_stats(dataset)["ranges"]


# --- the table ---------------------------------------------------------------------------


def group_order():
    """The true mass group as its position in p, He, C, Si, Fe (unlabelled last).

    The same expression as the `shower_by_mass_order` index, so PostgreSQL
    reads the sorted page from it.
    """
    return MASS_ORDER


@dataclass(frozen=True)
class TablePage:
    rows: list[dict]
    page: int
    pages: int
    total: int
    sort: str
    descending: bool
    first_row: int
    last_row: int


TABLE_FIELDS = ["row", *(column.field for column in KCDC_COLUMNS), "mass_group"]


def table_page(
    dataset: Dataset, *, sort: str = ROW_SORT, descending: bool = False, page: int = 1
) -> TablePage:
    """One page of the dataset ordered in the database; `page` is clamped to the valid range."""
    field = sort_field(dataset, sort)
    total = shower_total(dataset)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = max(1, min(pages, page))
    offset = (page - 1) * PER_PAGE
    showers = Shower.objects.filter(dataset=dataset)
    if field == "mass_group":
        # Groups sort by mass (p, He, C, Si, Fe), as integers: quicker than text too.
        showers = showers.annotate(group_order=group_order())
        field = "group_order"
    prefix = "-" if descending else ""
    # `row` breaks ties, so every row has exactly one place and paging reaches all of them.
    ordering = [f"{prefix}{field}"] if field == "row" else [f"{prefix}{field}", f"{prefix}row"]
    showers = showers.order_by(*ordering)
    if field == "row" and dataset_stats(dataset)["rows_dense"]:
        # Rows are the positions 0 … n-1: a page is a range of them, read from the index.
        first = total - offset - PER_PAGE if descending else offset
        showers = showers.filter(row__gte=max(0, first), row__lt=first + PER_PAGE)
        rows = list(showers.values(*TABLE_FIELDS))
    elif field != "row":
        # Deep pages sort the whole dataset: sort narrow (id, key, row) tuples in a
        # subquery and read the 25 full rows afterwards; about three times less to sort.
        page_ids = showers.values("id")[offset : offset + PER_PAGE]
        showers = Shower.objects.filter(id__in=page_ids)
        if field == "group_order":
            showers = showers.annotate(group_order=group_order())
        showers = showers.order_by(*ordering)
        rows = list(showers.values(*TABLE_FIELDS))
    else:
        rows = list(showers.values(*TABLE_FIELDS)[offset : offset + PER_PAGE])
    return TablePage(
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        sort=sort,
        descending=descending,
        first_row=offset + 1 if rows else 0,
        last_row=offset + len(rows),
    )


# --- histograms --------------------------------------------------------------------------


def _edges(low: float, high: float, bins: int) -> tuple[float, float]:
    """(low, width) of `bins` equal bins covering [low, high]; a single value gets width 1."""
    if high is None or low is None:
        return 0.0, 1.0
    width = (high - low) / bins
    if width <= 0:
        return low - 0.5, 1.0 / bins
    return low, width


class WidthBucket(Func):
    """PostgreSQL's width_bucket(value, low, high, count): 1 … count inside [low, high)."""

    function = "WIDTH_BUCKET"
    output_field = IntegerField()


def _bin_expression(field: str, low: float, width: float, bins: int):
    """The 0-based bin of a column's value; the caller clamps the maximum into the last bin.

    On PostgreSQL width_bucket, one C function call (measured on 100,000
    showers: a 2-D histogram in 46 ms against 55 ms with FLOOR, a division
    and a cast); elsewhere the portable arithmetic of the module docstring.
    """
    if connection.vendor == "postgresql":
        bucket = WidthBucket(F(field), Value(low), Value(low + width * bins), Value(bins))
        return ExpressionWrapper(bucket - Value(1), output_field=IntegerField())
    scaled = ExpressionWrapper((F(field) - Value(low)) / Value(width), output_field=FloatField())
    return Least(
        Cast(Floor(scaled), output_field=IntegerField()),
        Value(bins - 1),
        output_field=IntegerField(),
    )


def histogram_1d(dataset: Dataset, column_name: str, bins: int = DEFAULT_BINS) -> dict:
    """Counts per bin of one column; per true mass group (stacked) when the dataset is labelled."""
    column = column_spec(column_name)
    bins = clamp_bins(bins)

    def compute():
        low, high = column_ranges(dataset)[column.kcdc]
        start, width = _edges(low, high, bins)
        by = ["bin", "mass_group"] if dataset.labelled else ["bin"]
        grouped = (
            Shower.objects.filter(dataset=dataset)
            .annotate(bin=_bin_expression(column.field, start, width, bins))
            .values(*by)
            .annotate(n=Count("*"))
            .order_by()
        )
        series_counts: dict[str, list[int]] = {}
        for entry in grouped:
            key = entry.get("mass_group", "all") if dataset.labelled else "all"
            counts = series_counts.setdefault(key or "unlabelled", [0] * bins)
            counts[max(0, min(bins - 1, int(entry["bin"])))] += entry["n"]
        order = [*MASS_GROUPS, "unlabelled", "all"]
        series = [
            {
                "group": key,
                "label": GROUP_LABELS.get(key, "all showers" if key == "all" else key),
                "counts": series_counts[key],
            }
            for key in order
            if key in series_counts
        ]
        edges = [start + width * index for index in range(bins + 1)]
        totals = [sum(s["counts"][i] for s in series) for i in range(bins)]
        return {
            "column": column.kcdc,
            "unit": column.unit,
            "description": column.description,
            "bins": bins,
            "edges": [round(edge, 6) for edge in edges],
            "centers": [round((edges[i] + edges[i + 1]) / 2, 6) for i in range(bins)],
            "width": width,
            "series": series,
            "totals": totals,
            "total": sum(totals),
            "stacked": dataset.labelled,
        }

    return _cached(f"h1:{dataset_key(dataset)}:{column.kcdc}:{bins}", compute)


def histogram_2d(dataset: Dataset, x_name: str, y_name: str, bins: int = BINS_2D) -> dict:
    """Counts on a bins × bins grid; z[y][x] as Plotly's heatmap wants it, plus log10(count+1)."""
    x_column, y_column = column_spec(x_name), column_spec(y_name)
    bins = clamp_bins(bins)

    def compute():
        ranges = column_ranges(dataset)
        x_start, x_width = _edges(*ranges[x_column.kcdc], bins)
        y_start, y_width = _edges(*ranges[y_column.kcdc], bins)
        grouped = (
            Shower.objects.filter(dataset=dataset)
            .annotate(
                bx=_bin_expression(x_column.field, x_start, x_width, bins),
                by=_bin_expression(y_column.field, y_start, y_width, bins),
            )
            .values("bx", "by")
            .annotate(n=Count("*"))
            .order_by()
        )
        z = [[0] * bins for _ in range(bins)]
        for entry in grouped:
            bx = max(0, min(bins - 1, int(entry["bx"])))
            by = max(0, min(bins - 1, int(entry["by"])))
            z[by][bx] += entry["n"]
        peak = max((max(row) for row in z), default=0)
        return {
            "x": {
                "column": x_column.kcdc,
                "unit": x_column.unit,
                "centers": [round(x_start + x_width * (i + 0.5), 6) for i in range(bins)],
                "width": x_width,
            },
            "y": {
                "column": y_column.kcdc,
                "unit": y_column.unit,
                "centers": [round(y_start + y_width * (i + 0.5), 6) for i in range(bins)],
                "width": y_width,
            },
            "z": z,
            "zlog": [[round(math.log10(n + 1), 4) for n in row] for row in z],
            "peak": peak,
            "total": sum(sum(row) for row in z),
        }

    return _cached(f"h2:{dataset_key(dataset)}:{x_column.kcdc}:{y_column.kcdc}:{bins}", compute)


# --- compositions ------------------------------------------------------------------------


def _composition(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    fractions = {g: (counts[g] / total if total else 0.0) for g in MASS_GROUPS}
    return {
        "counts": counts,
        "total": total,
        "fractions": {g: round(value, 6) for g, value in fractions.items()},
        "mean_lnA": round(sum(fractions[g] * LN_A[g] for g in MASS_GROUPS), 6) if total else None,
    }


def true_composition(dataset: Dataset) -> dict | None:
    if not dataset.labelled:
        return None

    def compute():
        # The per-group series of the page's default histogram already count every group.
        counts = dict.fromkeys(MASS_GROUPS, 0)
        for series in histogram_1d(dataset, DEFAULT_COLUMN, DEFAULT_BINS)["series"]:
            if series["group"] in counts:
                counts[series["group"]] = sum(series["counts"])
        return _composition(counts)

    return _cached(f"truth:{dataset_key(dataset)}", compute)


def _versions_key(versions: dict[str, str]) -> str:
    text = ";".join(f"{key}={versions[key]}" for key in sorted(versions))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def predicted_compositions(dataset: Dataset, versions: dict[str, str] | None = None) -> dict:
    """The composition each active forest version predicts for the dataset.

    From the precomputed predictions, never a forest at request time: the
    counts each batch keeps with its rows (one row per forest to read), or an
    aggregate of the rows where no batch accounts for them (predictions
    written without a batch). Cached only once every active forest has
    answered every shower.
    """
    versions = active_versions() if versions is None else versions

    def compute():
        total = shower_total(dataset)
        counts = {key: dict.fromkeys(MASS_GROUPS, 0) for key in versions}
        batches = {
            (batch.hadronic_model, batch.model_version): batch
            for batch in PrecomputeBatch.objects.filter(
                dataset=dataset, hadronic_model__in=list(versions)
            )
        }
        uncounted = Q()
        for key, version in versions.items():
            batch = batches.get((key, version))
            kept = batch.predicted_counts if batch is not None else None
            if kept is not None and sum(kept.values()) == batch.done:
                counts[key].update(kept)
            else:
                uncounted |= Q(hadronic_model=key, model_version=version)
        if uncounted:
            rows = (
                Prediction.objects.filter(uncounted, shower__dataset_id=dataset.id)
                .values_list("hadronic_model", "predicted_group")
                .annotate(n=Count("*"))
                .order_by()
            )
            for key, group, n in rows:
                counts[key][group] += n
        models = {}
        for key in HADRONIC_MODELS:
            if key not in versions:
                continue
            composition = _composition(counts[key])
            composition.update(
                version=versions[key],
                label=HADRONIC_MODELS[key].label,
                complete=composition["total"] >= total,
            )
            models[key] = composition
        complete = (
            bool(models)
            and len(models) == len(HADRONIC_MODELS)
            and all(model["complete"] for model in models.values())
        )
        return {"models": models, "complete": complete, "total": total}

    return _cached(
        f"pred:{dataset_key(dataset)}:{_versions_key(versions)}",
        compute,
        store=lambda value: value["complete"],
    )


def warm_cache(dataset: Dataset) -> None:
    """Compute what the dataset's explore page shows, so its first visitor waits no longer."""
    dataset_stats(dataset)
    histogram_1d(dataset, DEFAULT_COLUMN, DEFAULT_BINS)
    histogram_2d(dataset, *FOOTPRINT)
    histogram_2d(dataset, *SIZES)
    true_composition(dataset)
    predicted_compositions(dataset)


def warm_explore_caches() -> int:
    """Warm every dataset's cache in this process (`setup_defaults`); returns how many."""
    datasets = list(Dataset.objects.all())
    for dataset in datasets:
        warm_cache(dataset)
    return len(datasets)


def cache_is_shared() -> bool:
    """True when the cache outlives this process and other processes read it (Redis).

    The embedded default's local-memory cache belongs to one process: filling
    it from `manage.py setup_defaults` would help no visitor.
    """
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def running_batches(dataset: Dataset) -> bool:
    return (
        PrecomputeBatch.objects.filter(dataset=dataset)
        .exclude(status=PrecomputeBatch.Status.DONE)
        .exists()
    )
