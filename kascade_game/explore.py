"""The Explore section: everything the 2021 Streamlit outreach app did, in Django.

An introduction to KASCADE and KCDC, a dataset chooser, the column
descriptions, a sortable paged table, histograms (1-D of any column, 2-D of
the core footprint and of lgNe against lgNmu) and the composition each
hadronic-model forest predicts — all computed in the database by
`classify.aggregates`, drawn in the browser by `explore.js` from JSON the
page carries (no inline script: the CSP allows only our own files).

Staff can upload a KCDC CSV; it goes through `import_showers` and then every
forest precomputes its answers while the page shows the progress.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from classify import aggregates
from classify.aggregates import BadParameter
from classify.columns import KCDC_COLUMNS
from classify.descriptions import UPLOADED, describe
from classify.hadronic_models import HADRONIC_MODELS
from classify.importing import ImportRefused, import_showers, max_import_bytes, too_large
from classify.models import HADRONIC_MODEL_CHOICES, Dataset
from classify.physics import LN_A, MASS_GROUPS
from classify.selectors import active_versions
from classify.services import start_precompute_for_dataset
from classify.tasks import schedule_explore_warmup
from classify.views import batch_rows

from .explain import group_name

logger = logging.getLogger(__name__)

SECTION = "explore"
DEFAULT_COLUMN = aggregates.DEFAULT_COLUMN
FOOTPRINT = aggregates.FOOTPRINT
SIZES = aggregates.SIZES
PAGE_WINDOW = 2
DECIMALS = {"lgE": 2, "X": 1, "Y": 1, "Ze": 1, "Az": 1, "lgNe": 2, "lgNmu": 2, "Age": 2}


class BadRequest(Exception):
    """Rendered as a 400 page that says which parameter was wrong."""


# --- parameters --------------------------------------------------------------------------


def _int_param(request, name: str, default: int) -> int:
    raw = request.GET.get(name, "")
    if raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(
            gettext("%(name)s must be a whole number, not %(value)s")
            % {"name": name, "value": repr(raw[:20])}
        ) from None


def _direction(request) -> bool:
    raw = request.GET.get("dir", "asc") or "asc"
    if raw not in ("asc", "desc"):
        raise BadRequest(
            gettext("dir must be asc or desc, not %(value)s") % {"value": repr(raw[:20])}
        )
    return raw == "desc"


def _dataset_by_id(raw) -> Dataset:
    try:
        dataset_id = int(raw)
    except (TypeError, ValueError):
        raise BadRequest(
            gettext("dataset must be a dataset number, not %(value)s")
            % {"value": repr(str(raw)[:20])}
        ) from None
    dataset = Dataset.objects.filter(id=dataset_id).first()
    if dataset is None:
        raise Http404("no such dataset")
    return dataset


def default_dataset() -> Dataset | None:
    return (
        Dataset.objects.filter(source=Dataset.Source.SIMULATED).order_by("id").first()
        or Dataset.objects.order_by("id").first()
    )


def _bad_request(request, message: str):
    if request.headers.get("Accept", "").startswith("application/json") or request.path.endswith(
        ".json"
    ):
        return JsonResponse({"error": message}, status=400)
    return render(
        request,
        "kascade_game/explore/bad_request.html",
        {"section": SECTION, "message": message},
        status=400,
    )


def _handles_bad_parameters(view):
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except (BadRequest, BadParameter) as error:
            return _bad_request(request, str(error))

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- context builders --------------------------------------------------------------------


def dataset_groups(datasets: list[Dataset]) -> list[tuple[str, list[dict]]]:
    """The chooser's option groups: simulated per model, game decks, imported KCDC data."""
    simulated, decks, imported = [], [], []
    for dataset in datasets:
        model = HADRONIC_MODELS.get(dataset.hadronic_model)
        entry = {
            "dataset": dataset,
            "label": f"{dataset.name} — "
            + ngettext("%(count)s shower", "%(count)s showers", dataset.shower_count)
            % {"count": number_format(dataset.shower_count, use_l10n=True, force_grouping=True)}
            + (f", {model.label}" if model else "")
            + ("" if dataset.labelled else ", " + gettext("unlabelled")),
        }
        if dataset.source == Dataset.Source.IMPORTED:
            imported.append(entry)
        elif dataset.purpose == Dataset.Purpose.DECK:
            decks.append(entry)
        else:
            simulated.append(entry)
    groups = [
        (gettext("Simulated, one hadronic model each"), simulated),
        (gettext("Game decks (the three models mixed)"), decks),
        (gettext("Imported from KCDC"), imported),
    ]
    return [(label, entries) for label, entries in groups if entries]


def _query(dataset: Dataset, **params) -> str:
    return urlencode({"dataset": dataset.id, **params})


def table_context(dataset: Dataset, *, sort: str, descending: bool, page: int) -> dict:
    result = aggregates.table_page(dataset, sort=sort, descending=descending, page=page)
    direction = "desc" if descending else "asc"
    base = reverse("explore")
    partial = reverse("explore-table", args=[dataset.id])

    def link(**changes) -> dict:
        params = {"sort": result.sort, "dir": direction, "page": result.page, **changes}
        query = urlencode(params)
        return {"href": f"{base}?{_query(dataset, **params)}", "hx": f"{partial}?{query}"}

    headers = []
    for key in aggregates.sort_keys(dataset):
        column = next((c for c in KCDC_COLUMNS if c.kcdc == key), None)
        active = key == result.sort
        next_dir = "asc" if not active or descending else "desc"
        headers.append(
            {
                "key": key,
                "label": {"row": "#", "group": gettext("Group")}.get(key, key),
                "unit": column.unit if column else "",
                "numeric": key != "group",
                "aria_sort": ("descending" if descending else "ascending") if active else "",
                "link": link(sort=key, dir=next_dir, page=1),
                "title": (
                    gettext("Sort by %(column)s, descending")
                    if next_dir == "desc"
                    else gettext("Sort by %(column)s, ascending")
                )
                % {"column": key},
            }
        )
    # Each row's cells joined here: 25 rows × 10 cells cost the template engine
    # more than the query. Numbers need no escaping; the group is escaped.
    rows = []
    for shower in result.rows:
        cells = [f'<td class="num">{shower["row"]}</td>']
        for column in KCDC_COLUMNS:
            value = shower[column.field]
            cells.append(f'<td class="num">{value:.{DECIMALS.get(column.kcdc, 2)}f}</td>')
        if dataset.labelled:
            group = escape(shower["mass_group"])
            cells.append(f'<td class=" group-cell group-{group}">{group}</td>')
        rows.append({"row": shower["row"], "cells": mark_safe("".join(cells))})
    low = max(1, result.page - PAGE_WINDOW)
    high = min(result.pages, result.page + PAGE_WINDOW)
    return {
        "dataset": dataset,
        "table": result,
        "headers": headers,
        "rows": rows,
        "direction": direction,
        "page_links": [
            {"number": number, "current": number == result.page, "link": link(page=number)}
            for number in range(low, high + 1)
        ],
        "first_link": link(page=1),
        "prev_link": link(page=max(1, result.page - 1)),
        "next_link": link(page=min(result.pages, result.page + 1)),
        "last_link": link(page=result.pages),
        "table_url": partial,
    }


def histogram_table(histogram: dict) -> list[str]:
    """The text table's rows, each its cells joined here rather than looped in the template.

    Up to 100 rows of up to 8 cells: the template engine took about a third
    of the page's time for them. Numbers only (no escaping needed), with
    three decimals as explore.js writes them when the histogram changes.
    """
    several = len(histogram["series"]) > 1
    edges = histogram["edges"]
    rows = []
    for index in range(histogram["bins"]):
        cells = [f"<td>{edges[index]:.3f}</td><td>{edges[index + 1]:.3f}</td>"]
        cells += [
            f'<td class="num">{series["counts"][index]}</td>' for series in histogram["series"]
        ]
        if several:
            cells.append(f'<td class="num">{histogram["totals"][index]}</td>')
        rows.append(mark_safe("".join(cells)))
    return rows


def map_context(key: str, title: str, data: dict) -> dict:
    """A 2-D histogram with its rows for the text table (highest y first, as on the chart)."""
    # 900 cells and 60 axis labels: joined here rather than looped in the template
    # (numbers only, so nothing needs escaping).
    rows = [
        (f"{y:.2f}", mark_safe("".join(f'<td class="num">{n or ""}</td>' for n in counts)))
        for y, counts in zip(data["y"]["centers"], data["z"], strict=True)
    ][::-1]
    x_labels = mark_safe(
        "".join(f'<th scope="col" class="num">{x:.2f}</th>' for x in data["x"]["centers"])
    )
    return {
        "key": key,
        "title": title,
        "data": data,
        "rows": rows,
        "x_labels": x_labels,
        "json_id": f"map-{key}",
    }


def composition_context(dataset: Dataset) -> dict:
    versions = active_versions()
    predicted = aggregates.predicted_compositions(dataset, versions)
    truth = aggregates.true_composition(dataset)
    running = not predicted["complete"] or aggregates.running_batches(dataset)
    models = list(predicted["models"].items())
    table = []
    for group in MASS_GROUPS:
        table.append(
            {
                "group": group,
                "label": group_name(group),
                "ln_a": LN_A[group],
                "truth": (truth["fractions"][group], truth["counts"][group]) if truth else None,
                "models": [
                    (model["fractions"][group], model["counts"][group]) for _, model in models
                ],
            }
        )
    chart_data = {
        "groups": list(MASS_GROUPS),
        "labels": [group_name(g) for g in MASS_GROUPS],
        "models": [
            {"key": key, "label": model["label"], "counts": model["counts"]}
            for key, model in models
        ],
        "truth": truth["counts"] if truth else None,
    }
    context = {
        "dataset": dataset,
        "predicted": predicted,
        "models": models,
        "truth": truth,
        "composition_table": table,
        "composition_chart": chart_data,
        "composition_running": running,
        "composition_url": reverse("explore-composition", args=[dataset.id]),
    }
    if running:
        rows = [row for row in batch_rows(limit=200) if row["batch"].dataset_id == dataset.id]
        context.update(progress_rows=rows, progress_running=running)
    return context


# --- views -------------------------------------------------------------------------------


@require_GET
@_handles_bad_parameters
def explore(request):
    datasets = list(Dataset.objects.all())
    if "dataset" in request.GET:
        dataset = _dataset_by_id(request.GET["dataset"])
    else:
        dataset = default_dataset()
    context = {
        "section": SECTION,
        "columns": KCDC_COLUMNS,
        "dataset_groups": dataset_groups(datasets),
        "dataset": dataset,
        "dataset_description": describe(dataset.description) if dataset else "",
        "is_staff": request.user.is_staff,
    }
    if dataset is None:
        return render(request, "kascade_game/explore/explore.html", context)
    sort = request.GET.get("sort") or aggregates.ROW_SORT
    aggregates.sort_field(dataset, sort)
    column = request.GET.get("column") or DEFAULT_COLUMN
    aggregates.column_spec(column)
    bins = aggregates.clamp_bins(_int_param(request, "bins", aggregates.DEFAULT_BINS))
    histogram = _in_visitors_language(aggregates.histogram_1d(dataset, column, bins))
    footprint = aggregates.histogram_2d(dataset, *FOOTPRINT)
    sizes = aggregates.histogram_2d(dataset, *SIZES)
    context.update(
        table_context(
            dataset,
            sort=sort,
            descending=_direction(request),
            page=_int_param(request, "page", 1),
        )
    )
    context.update(composition_context(dataset))
    context.update(
        {
            "histogram": histogram,
            "histogram_rows": histogram_table(histogram),
            "histogram_url": reverse("explore-histogram", args=[dataset.id]),
            "column_choice": column,
            "bins": bins,
            "min_bins": aggregates.MIN_BINS,
            "max_bins": aggregates.MAX_BINS,
            "maps": [
                map_context("footprint", gettext("Shower core footprint (X–Y)"), footprint),
                map_context(
                    "sizes", gettext("Electron number against muon number (lgNe–lgNmu)"), sizes
                ),
            ],
            "groups": [(g, group_name(g)) for g in MASS_GROUPS],
        }
    )
    return render(request, "kascade_game/explore/explore.html", context)


@require_GET
@_handles_bad_parameters
def table(request, dataset_id: int):
    """The table partial (htmx); a plain request gets the whole page at the same place."""
    dataset = _dataset_by_id(dataset_id)
    sort = request.GET.get("sort") or aggregates.ROW_SORT
    descending = _direction(request)
    page = _int_param(request, "page", 1)
    if not request.htmx:
        query = _query(dataset, sort=sort, dir="desc" if descending else "asc", page=page)
        return HttpResponseRedirect(f"{reverse('explore')}?{query}")
    context = table_context(dataset, sort=sort, descending=descending, page=page)
    return render(request, "kascade_game/explore/_table.html", context)


def _in_visitors_language(histogram: dict) -> dict:
    """The cached histogram is language-neutral; its group names are put in the visitor's."""

    def label(entry: dict) -> str:
        if entry["group"] == "all":
            return gettext("all showers")
        return group_name(entry["group"]) or entry["label"]

    series = [{**entry, "label": label(entry)} for entry in histogram["series"]]
    return {**histogram, "series": series}


@require_GET
@_handles_bad_parameters
def histogram(request, dataset_id: int):
    """Binned counts of one column as JSON, e.g. ?column=lgNe&bins=40 (bins clamped to 5–100)."""
    dataset = _dataset_by_id(dataset_id)
    column = request.GET.get("column") or DEFAULT_COLUMN
    bins = _int_param(request, "bins", aggregates.DEFAULT_BINS)
    return JsonResponse(_in_visitors_language(aggregates.histogram_1d(dataset, column, bins)))


@require_GET
@_handles_bad_parameters
def histogram_2d(request, dataset_id: int, which: str):
    dataset = _dataset_by_id(dataset_id)
    pair = {"footprint": FOOTPRINT, "sizes": SIZES}.get(which)
    if pair is None:
        raise Http404("no such 2-D histogram")
    return JsonResponse(aggregates.histogram_2d(dataset, *pair))


@require_GET
@_handles_bad_parameters
def composition(request, dataset_id: int):
    """The composition section (htmx polls it every 2 s while predictions are computed)."""
    dataset = _dataset_by_id(dataset_id)
    context = composition_context(dataset)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "dataset": dataset.id,
                "complete": context["predicted"]["complete"],
                "models": context["predicted"]["models"],
                "truth": context["truth"],
            }
        )
    return render(request, "kascade_game/explore/_composition.html", context)


# --- staff upload ------------------------------------------------------------------------


class UploadForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("A new, unique name for the dataset."),
    )
    file = forms.FileField(
        label=gettext_lazy("KCDC CSV file"),
        help_text=gettext_lazy("Columns lgE, X, Y, Ze, Az, lgNe, lgNmu, Age."),
    )
    label_column = forms.CharField(
        label=gettext_lazy("Label column"),
        required=False,
        max_length=100,
        help_text=gettext_lazy(
            "Optional: the header of a column with the true mass group (p, He, C, Si, Fe)."
        ),
    )
    hadronic_model = forms.ChoiceField(
        label=gettext_lazy("Hadronic model"),
        required=False,
        choices=[("", gettext_lazy("unknown / real data")), *HADRONIC_MODEL_CHOICES],
        help_text=gettext_lazy("Optional: the model the showers were simulated with."),
    )


def _upload_page(request, form, *, status: int = 200, error: str = ""):
    return render(
        request,
        "kascade_game/explore/upload.html",
        {
            "section": SECTION,
            "form": form,
            "error": error,
            "limit_mb": max_import_bytes() / 1e6,
        },
        status=status,
    )


@staff_member_required
@require_http_methods(["GET", "POST"])
def upload(request):
    if request.method == "GET":
        return _upload_page(request, UploadForm())
    limit = max_import_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    # Refuse before Django spools a huge body to disk (64 KB leeway for the form fields).
    if declared > limit + 65536:
        return _upload_page(
            request,
            UploadForm(),
            status=400,
            error=gettext("the upload is %(size)s MB; the limit is %(limit)s MB")
            % {
                "size": number_format(round(declared / 1e6, 1), decimal_pos=1),
                "limit": number_format(round(limit / 1e6), decimal_pos=0),
            },
        )
    try:
        form = UploadForm(request.POST, request.FILES)
        valid = form.is_valid()
    except RequestDataTooBig:
        return _upload_page(
            request, UploadForm(), status=400, error=gettext("the form fields are too large")
        )
    if not valid:
        return _upload_page(request, form, status=400)
    upload_file = form.cleaned_data["file"]
    if upload_file.size > limit:
        return _upload_page(
            request,
            form,
            status=400,
            error=too_large(upload_file.size, limit),
        )
    try:
        dataset = import_showers(
            raw=upload_file.read(limit + 1),
            name=form.cleaned_data["name"],
            label_column=form.cleaned_data["label_column"].strip() or None,
            hadronic_model=form.cleaned_data["hadronic_model"] or None,
            description=UPLOADED % {"user": request.user.get_username(), "file": upload_file.name},
        )
    except ImportRefused as refusal:
        return _upload_page(request, form, status=400, error=str(refusal))
    try:
        start_precompute_for_dataset(dataset)
    except Exception:
        logger.exception("could not start the predictions of dataset %s", dataset.id)
        messages.error(
            request,
            gettext(
                "%(name)s: imported, but the predictions could not be started; "
                "run `manage.py precompute_predictions` or try again later."
            )
            % {"name": dataset.name},
        )
    else:
        messages.success(
            request,
            ngettext(
                "%(name)s: %(count)s shower imported; the forests are answering it.",
                "%(name)s: %(count)s showers imported; the forests are answering every shower.",
                dataset.shower_count,
            )
            % {
                "name": dataset.name,
                "count": number_format(dataset.shower_count, force_grouping=True),
            },
        )
    schedule_explore_warmup([dataset.id])  # the first visit of the new dataset is then quick
    return HttpResponseRedirect(f"{reverse('explore')}?dataset={dataset.id}#composition")
