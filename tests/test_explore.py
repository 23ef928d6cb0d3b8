"""The Explore section: the 2021 outreach app's features, computed in the database."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Case, IntegerField, Value, When

from classify import aggregates
from classify.columns import KCDC_COLUMNS
from classify.datasets import DatasetSpec, create_simulated_dataset
from classify.importing import import_showers
from classify.models import Dataset, PrecomputeBatch, Prediction, Shower
from classify.physics import LN_A, MASS_GROUPS
from classify.selectors import active_versions

HTMX = {"HTTP_HX_REQUEST": "true"}
SMALL_CSV = (
    "lgE,X,Y,Ze,Az,lgNe,lgNmu,Age\n"
    "15.1,10.5,-20.25,12.0,100.0,4.5,3.9,0.9\n"
    "15.9,-80.0,40.0,30.5,250.0,5.6,4.7,1.1\n"
    "14.6,5.0,5.0,5.0,10.0,4.1,3.2,0.8\n"
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def imported(db):
    return import_showers(raw=SMALL_CSV.encode(), name="kcdc-small")


@pytest.fixture
def staff_client(client, django_user_model):
    user = django_user_model.objects.create_user(
        "curator", password="x-ray-burst-77", is_staff=True
    )
    client.force_login(user)
    return client


def first_rows(html: str) -> list[int]:
    return [int(row) for row in re.findall(r'<tr data-row="(\d+)"', html)]


def sort_fields(dataset: Dataset) -> list[tuple[str, str]]:
    fields = [("row", "row")] + [(column.kcdc, column.field) for column in KCDC_COLUMNS]
    if dataset.labelled:
        fields.append(("group", "mass_group"))
    return fields


# --- the introduction and the chooser ---------------------------------------------------


def test_the_introduction_tells_what_kascade_was_and_links_kcdc(client, game_data):
    response = client.get("/explore/")
    assert response.status_code == 200
    text = response.content.decode()
    for fact in (
        "252 detector stations",
        "200 m × 200 m",
        "110 m a.s.l.",
        "49.1° N 8.4° E",
        "1996 to 2013",
        "electrons",
        "muons",
        "hadrons",
        "10<sup>14</sup> to 10<sup>18</sup> eV",
        "KASCADE-Grande",
        'href="https://kcdc.iap.kit.edu/"',
    ):
        assert fact in text, fact


def test_every_dataset_is_offered_and_the_first_simulated_one_is_the_default(
    client, game_data, imported
):
    single = create_simulated_dataset(
        DatasetSpec(
            name="sim-epos-small",
            purpose=Dataset.Purpose.TRAINING,
            hadronic_models=("epos-lhc",),
            showers=50,
            seed=31,
        )
    )
    response = client.get("/explore/")
    text = response.content.decode()
    for dataset in Dataset.objects.all():
        assert f'data-dataset-option="{dataset.name}"' in text
    assert "Imported from KCDC" in text and "Game decks" in text and "one hadronic model" in text
    first_simulated = Dataset.objects.filter(source="simulated").order_by("id").first()
    assert response.context["dataset"] == first_simulated
    chosen = client.get(f"/explore/?dataset={single.id}")
    assert chosen.context["dataset"] == single
    assert f'data-dataset-name="{single.name}"' in chosen.content.decode()


def test_the_columns_are_described_with_their_units(client, game_data):
    text = client.get(f"/explore/?dataset={game_data.id}").content.decode()
    for column in KCDC_COLUMNS:
        assert f'<tr data-column="{column.kcdc}">' in text
        assert column.description in text
        assert f"<td>{column.unit}</td>" in text
    assert 'data-column="group"' in text


# --- the table ---------------------------------------------------------------------------


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_sorting_by_each_column_gives_the_database_order(client, game_data, descending):
    prefix = "-" if descending else ""
    for key, field in sort_fields(game_data):
        showers = Shower.objects.filter(dataset=game_data)
        if field == "mass_group":  # groups sort by mass: p, He, C, Si, Fe
            showers = showers.annotate(
                by_mass=Case(
                    *(When(mass_group=g, then=Value(i)) for i, g in enumerate(MASS_GROUPS)),
                    output_field=IntegerField(),
                )
            )
            field = "by_mass"
        ordering = [f"{prefix}{field}"] if field == "row" else [f"{prefix}{field}", f"{prefix}row"]
        expected = list(showers.order_by(*ordering).values_list("row", flat=True)[:25])
        response = client.get(
            f"/explore/{game_data.id}/table/",
            {"sort": key, "dir": "desc" if descending else "asc"},
            **HTMX,
        )
        assert response.status_code == 200, key
        html = response.content.decode()
        assert first_rows(html) == expected, key
        aria = "descending" if descending else "ascending"
        assert re.search(rf'aria-sort="{aria}" data-sort-key="{key}"', html), key
        assert html.count("aria-sort=") == 1


def test_the_full_page_sorts_too_and_a_plain_table_request_goes_to_it(client, game_data):
    response = client.get("/explore/", {"dataset": game_data.id, "sort": "lgNmu", "dir": "desc"})
    top = Shower.objects.filter(dataset=game_data).order_by("-lg_n_mu", "-row").first()
    assert first_rows(response.content.decode())[0] == top.row
    plain = client.get(f"/explore/{game_data.id}/table/", {"sort": "Ze", "page": 2})
    assert plain.status_code == 302
    assert plain["Location"].startswith("/explore/?") and "sort=Ze" in plain["Location"]


def test_paging_reaches_every_row_up_to_the_last(client, game_data):
    total = game_data.shower_count
    pages = math.ceil(total / aggregates.PER_PAGE)
    seen: list[int] = []
    for page in range(1, pages + 1):
        html = client.get(f"/explore/{game_data.id}/table/", {"page": page}, **HTMX)
        seen += first_rows(html.content.decode())
    assert seen == list(range(total))
    last = client.get(f"/explore/{game_data.id}/table/", {"page": pages, "sort": "lgE"}, **HTMX)
    last_row = Shower.objects.filter(dataset=game_data).order_by("-lg_e", "-row").first().row
    assert first_rows(last.content.decode())[-1] == last_row
    assert f'max="{pages}"' in last.content.decode()  # the go-to-page form
    clamped = client.get(f"/explore/{game_data.id}/table/", {"page": 10_000}, **HTMX)
    assert clamped.status_code == 200 and clamped.context["table"].page == pages
    assert (
        client.get(f"/explore/{game_data.id}/table/", {"page": -3}, **HTMX).context["table"].page
        == 1
    )


@pytest.mark.parametrize(
    "url",
    [
        "/explore/?dataset=abc",
        "/explore/?dataset={id}&sort=energy",
        "/explore/?dataset={id}&dir=sideways",
        "/explore/?dataset={id}&page=two",
        "/explore/?dataset={id}&bins=many",
        "/explore/?dataset={id}&column=lgX",
        "/explore/{id}/table/?sort=DROP%20TABLE",
        "/explore/{id}/table/?page=1e9x",
        "/explore/{id}/histogram.json?column=nope",
        "/explore/{id}/histogram.json?bins=ten",
        "/explore/{imported}/table/?sort=group",
        "/explore/999999/histogram.json",
        "/explore/?dataset=999999",
        "/explore/{id}/histogram2d/nothing.json",
    ],
)
def test_bad_parameters_are_answered_with_a_4xx_never_a_500(client, game_data, imported, url):
    response = client.get(url.format(id=game_data.id, imported=imported.id), **HTMX)
    assert 400 <= response.status_code < 500
    if response.status_code == 400 and "json" in url:
        assert "error" in response.json()


# --- histograms --------------------------------------------------------------------------


@pytest.mark.parametrize("column", [column.kcdc for column in KCDC_COLUMNS])
def test_a_histogram_has_the_requested_bins_and_counts_every_shower(client, game_data, column):
    response = client.get(f"/explore/{game_data.id}/histogram.json", {"column": column, "bins": 17})
    data = response.json()
    assert data["column"] == column and data["bins"] == 17
    assert len(data["edges"]) == 18 and len(data["centers"]) == 17
    assert sum(data["totals"]) == data["total"] == game_data.shower_count
    # stacked per true mass group, each series counting that group's showers
    assert data["stacked"] is True
    assert [series["group"] for series in data["series"]] == list(MASS_GROUPS)
    for series in data["series"]:
        assert len(series["counts"]) == 17
        assert (
            sum(series["counts"])
            == Shower.objects.filter(dataset=game_data, mass_group=series["group"]).count()
        )


def test_a_histogram_bin_holds_the_showers_between_its_edges(client, game_data):
    data = client.get(
        f"/explore/{game_data.id}/histogram.json", {"column": "lgNe", "bins": 10}
    ).json()
    low, high = data["edges"][3], data["edges"][4]
    inside = Shower.objects.filter(dataset=game_data, lg_n_e__gte=low, lg_n_e__lt=high).count()
    assert abs(data["totals"][3] - inside) <= 1  # an edge value may round either way


def test_an_unlabelled_dataset_has_one_series_and_bins_are_clamped(client, imported):
    data = client.get(f"/explore/{imported.id}/histogram.json?column=Ze&bins=5000").json()
    assert data["bins"] == aggregates.MAX_BINS
    assert [series["group"] for series in data["series"]] == ["all"]
    assert data["total"] == 3
    few = client.get(f"/explore/{imported.id}/histogram.json?column=Ze&bins=1").json()
    assert few["bins"] == aggregates.MIN_BINS


def test_the_page_carries_binned_data_not_showers(client, game_data):
    response = client.get(f"/explore/?dataset={game_data.id}&column=Age&bins=25")
    text = response.content.decode()
    assert 'id="histogram-data"' in text and 'id="map-footprint"' in text
    assert 'id="map-sizes"' in text and 'id="composition-data"' in text
    assert response.context["histogram"]["column"] == "Age"
    assert response.context["histogram"]["bins"] == 25
    assert "<script>" not in text and " onclick=" not in text and "hx-on" not in text


@pytest.mark.parametrize("which,axes", [("footprint", ("X", "Y")), ("sizes", ("lgNe", "lgNmu"))])
def test_two_dimensional_histograms_count_every_shower(client, game_data, which, axes):
    data = client.get(f"/explore/{game_data.id}/histogram2d/{which}.json").json()
    assert (data["x"]["column"], data["y"]["column"]) == axes
    assert len(data["z"]) == aggregates.BINS_2D
    assert all(len(row) == aggregates.BINS_2D for row in data["z"])
    assert sum(map(sum, data["z"])) == data["total"] == game_data.shower_count
    assert data["peak"] == max(map(max, data["z"]))
    assert data["zlog"][0][0] == round(math.log10(data["z"][0][0] + 1), 4)


# --- composition -------------------------------------------------------------------------


def test_the_composition_equals_the_counts_of_the_active_predictions(client, game_data):
    response = client.get(f"/explore/{game_data.id}/composition/?format=json")
    data = response.json()
    assert data["complete"] is True
    versions = active_versions()
    assert set(data["models"]) == set(versions) and len(versions) == 3
    for key, version in versions.items():
        model = data["models"][key]
        assert model["version"] == version
        for group in MASS_GROUPS:
            expected = Prediction.objects.filter(
                shower__dataset=game_data,
                hadronic_model=key,
                model_version=version,
                predicted_group=group,
            ).count()
            assert model["counts"][group] == expected
        assert sum(model["counts"].values()) == game_data.shower_count
        mean = sum(model["fractions"][group] * LN_A[group] for group in MASS_GROUPS)
        assert model["mean_lnA"] == pytest.approx(mean, abs=1e-5)
        assert 0 <= model["mean_lnA"] <= math.log(56)
    for group in MASS_GROUPS:
        assert (
            data["truth"]["counts"][group]
            == Shower.objects.filter(dataset=game_data, mass_group=group).count()
        )


def test_the_page_shows_three_forest_charts_the_truth_and_the_mean_lna(client, game_data):
    text = client.get(f"/explore/?dataset={game_data.id}").content.decode()
    assert len(re.findall(r"data-composition-chart=", text)) == 3
    assert "data-truth-chart" in text
    for key in active_versions():
        assert f'data-mean-lna-cell="{key}"' in text


def test_the_composition_is_read_from_the_cache_not_recomputed(
    client, game_data, django_assert_max_num_queries
):
    client.get(f"/explore/{game_data.id}/composition/")
    with django_assert_max_num_queries(4):  # dataset, active versions, running batches (+ session)
        response = client.get(f"/explore/{game_data.id}/composition/")
    assert response.status_code == 200


def test_while_predictions_are_computed_the_page_says_so_and_polls(client, imported):
    PrecomputeBatch.objects.create(
        dataset=imported, hadronic_model="epos-lhc", model_version="v-next", total=3
    )
    text = client.get(f"/explore/?dataset={imported.id}").content.decode()
    assert "still computing their predictions" in text
    assert 'hx-trigger="every 2s"' in text and "data-progress-running" in text
    assert "data-composition-chart" not in text


def test_a_cache_outage_never_breaks_the_page(client, game_data, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(aggregates.cache, "get", broken)
    monkeypatch.setattr(aggregates.cache, "set", broken)
    assert client.get(f"/explore/?dataset={game_data.id}").status_code == 200
    assert client.get(f"/explore/{game_data.id}/histogram.json").status_code == 200


# --- staff upload ------------------------------------------------------------------------


def test_a_staff_upload_of_the_kcdc_sample_imports_it_and_starts_the_predictions(staff_client):
    raw = Path(settings.KCDC_SAMPLE).read_bytes()
    response = staff_client.post(
        "/explore/upload/",
        {
            "name": "kcdc-dataset1",
            "label_column": "",
            "hadronic_model": "",
            "file": SimpleUploadedFile("dataset1.csv", raw, content_type="text/csv"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get(name="kcdc-dataset1")
    assert response["Location"].startswith(f"/explore/?dataset={dataset.id}")
    assert dataset.source == Dataset.Source.IMPORTED and not dataset.labelled
    assert Shower.objects.filter(dataset=dataset).count() == dataset.shower_count == 2940
    batches = PrecomputeBatch.objects.filter(dataset=dataset)
    assert batches.count() == 3
    page = staff_client.get(response["Location"])
    assert page.status_code == 200
    if settings.CELERY_TASK_ALWAYS_EAGER:
        assert set(batches.values_list("status", flat=True)) == {PrecomputeBatch.Status.DONE}
        assert Prediction.objects.filter(shower__dataset=dataset).count() == 3 * 2940
    else:
        assert page.context["composition_running"] is True


def test_a_bad_upload_is_refused_with_the_message_and_writes_nothing(staff_client):
    before = (Dataset.objects.count(), Shower.objects.count())
    bad = SMALL_CSV.replace("30.5", "95.0")
    response = staff_client.post(
        "/explore/upload/",
        {"name": "broken", "file": SimpleUploadedFile("broken.csv", bad.encode())},
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "line 3, column Ze" in text and "outside the allowed range" in text
    assert 'enctype="multipart/form-data"' in text
    assert (Dataset.objects.count(), Shower.objects.count()) == before
    assert not PrecomputeBatch.objects.exists()


def test_an_upload_over_the_limit_is_refused_clearly(staff_client, settings):
    settings.IMPORT_MAX_BYTES = 100
    response = staff_client.post(
        "/explore/upload/",
        {"name": "too-big", "file": SimpleUploadedFile("big.csv", SMALL_CSV.encode() * 3)},
    )
    assert response.status_code == 400
    assert "the limit is" in response.content.decode()
    assert not Dataset.objects.filter(name="too-big").exists()


def test_only_staff_may_upload(client, django_user_model):
    response = client.get("/explore/upload/")
    assert response.status_code == 302 and "login" in response["Location"]
    player = django_user_model.objects.create_user("player", password="x-ray-burst-77")
    client.force_login(player)
    posted = client.post("/explore/upload/", {"name": "sneaky"})
    assert posted.status_code == 302 and "login" in posted["Location"]
    assert not Dataset.objects.filter(name="sneaky").exists()
    assert "Upload a KCDC CSV" not in client.get("/explore/").content.decode()


# --- speed: indexes and a warm cache -----------------------------------------------------


def _cached(key: str):
    return cache.get(f"{aggregates.CACHE_PREFIX}:{key}")


def _wait_for(condition, timeout_s: float = 120.0) -> bool:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db
def test_every_sortable_column_has_its_dataset_index():
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "classify_shower")
    for column in KCDC_COLUMNS:
        index = constraints.get(f"shower_by_{column.field}")
        assert index is not None and index["index"], column.field
        assert index["columns"] == ["dataset_id", column.field, "row", "id"]
    assert "shower_by_mass_order" in constraints  # the group column, sorted by mass


@pytest.mark.django_db(transaction=True)
def test_a_datasets_explore_cache_is_warm_once_its_predictions_are_complete(request):
    """After the last batch of a dataset the page's aggregates are computed ahead: in this
    process without a broker, by the real worker with Redis."""
    from classify.hadronic_models import HADRONIC_MODELS
    from classify.services import start_precompute
    from tests.factories import require_forests

    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker")
    require_forests()
    dataset = create_simulated_dataset(
        DatasetSpec(
            name="warm-after-batch",
            purpose="explore",
            hadronic_models=tuple(HADRONIC_MODELS),
            showers=300,
            seed=41,
        )
    )
    key = aggregates.dataset_key(dataset)
    assert _cached(f"h1:{key}:{aggregates.DEFAULT_COLUMN}:{aggregates.DEFAULT_BINS}") is None
    for model in HADRONIC_MODELS:
        start_precompute(dataset_id=dataset.id, hadronic_model=model)

    def warm() -> bool:
        versions = active_versions()
        prediction_key = f"pred:{key}:{aggregates._versions_key(versions)}"
        return len(versions) == len(HADRONIC_MODELS) and all(
            _cached(entry) is not None
            for entry in (
                f"stats:{key}",
                f"h1:{key}:{aggregates.DEFAULT_COLUMN}:{aggregates.DEFAULT_BINS}",
                f"h2:{key}:{'X'}:{'Y'}:{aggregates.BINS_2D}",
                f"h2:{key}:{'lgNe'}:{'lgNmu'}:{aggregates.BINS_2D}",
                prediction_key,
            )
        )

    assert _wait_for(warm), "the dataset's explore aggregates were not cached after its batches"
    assert _cached(f"pred:{key}:{aggregates._versions_key(active_versions())}")["complete"]


@pytest.mark.django_db(transaction=True)
def test_an_imported_dataset_has_its_histograms_cached_before_the_first_visit(request, tmp_path):
    from django.core.management import call_command

    if settings.REDIS_URL:
        request.getfixturevalue("celery_worker")
    csv_file = tmp_path / "kcdc.csv"
    csv_file.write_text(SMALL_CSV)
    call_command(
        "import_showers", str(csv_file), "--name", "kcdc-warm", "--no-precompute", stdout=None
    )
    dataset = Dataset.objects.get(name="kcdc-warm")
    key = aggregates.dataset_key(dataset)
    assert _wait_for(
        lambda: (
            _cached(f"h1:{key}:{aggregates.DEFAULT_COLUMN}:{aggregates.DEFAULT_BINS}") is not None
        )
    )
    assert _cached(f"stats:{key}")["total"] == 3
