"""Explore pages on a 100,000-shower dataset: server time, cold and warm cache (target ≤ 300 ms).

    run() -> {"explore": {"page_ms": …, "table_ms": …, "histogram_ms": …, "composition_ms": …}}

The caller has configured Django (PostgreSQL via DATABASE_URL) and called
django.setup(); this module configures nothing. It creates the labelled
dataset "bench-explore-100k" once (reused afterwards), has every forest
answer every shower in this process (eager), and times the views with
django.test.Client, i.e. the server's own time without a network:

* page         — GET /explore/?dataset=<id> (table, three histograms, composition)
* table        — the htmx table partial sorted by lgNe, page 2,000 (rows 49,976–50,000)
* histogram    — GET /explore/<id>/histogram.json?column=lgNmu&bins=40
* composition  — the composition partial (the three forests and the truth)

"Cold" runs use a fresh cache namespace for every request, so every
aggregate is computed in the database; "warm" runs repeat the request with
the cache filled. The `*_ms` figures are the warm medians — what every
visitor after the first one waits, since the aggregates are cached per
dataset and set of active forest versions — and `*_cold_ms` the cold ones
(what a visitor would wait if nobody had filled the cache: a task fills it
after an import, after a dataset's last batch of predictions, after a forest
version switches, and `setup_defaults` after set-up). `ok` checks the warm
figures against the target, `cold_ok` the cold ones.
"""

from __future__ import annotations

import statistics
import time
import uuid

DATASET_NAME = "bench-explore-100k"
N_SHOWERS = 100_000
SEED = 9931
REPEATS = 5
TARGET_MS = 300.0


def _dataset():
    from classify.datasets import DatasetSpec, create_simulated_dataset
    from classify.hadronic_models import HADRONIC_MODELS
    from classify.models import Dataset, Shower

    dataset = Dataset.objects.filter(name=DATASET_NAME).first()
    if dataset is not None and Shower.objects.filter(dataset=dataset).count() == N_SHOWERS:
        return dataset, False
    spec = DatasetSpec(
        name=DATASET_NAME,
        purpose=Dataset.Purpose.EXPLORE,
        hadronic_models=tuple(HADRONIC_MODELS),
        showers=N_SHOWERS,
        seed=SEED,
        description="100,000 simulated showers for the Explore benchmark.",
    )
    return create_simulated_dataset(spec, replace=True), True


def _predictions(dataset) -> dict[str, bool]:
    """Every forest answers every shower (in this process); versions activated when complete."""
    from classify.forests import read_card
    from classify.hadronic_models import HADRONIC_MODELS
    from classify.services import activate_if_complete, register_forest_version, start_precompute

    active = {}
    for key in HADRONIC_MODELS:
        card = read_card(key)
        register_forest_version(key, version=card["version"], accuracy=card.get("accuracy"))
        start_precompute(dataset_id=dataset.id, hadronic_model=key, eager=True)
        active[key] = activate_if_complete(key, card["version"])
    return active


def _time_ms(client, url: str, headers: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, **headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return elapsed


def run() -> dict:
    from django.db import connection
    from django.test import Client

    from classify import aggregates

    started = time.perf_counter()
    dataset, created = _dataset()
    setup_s = time.perf_counter() - started
    active = _predictions(dataset)
    predict_s = time.perf_counter() - started - setup_s
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk insert: fresh statistics for the planner.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE classify_shower, classify_prediction")

    client = Client(HTTP_HOST="127.0.0.1")
    htmx = {"HTTP_HX_REQUEST": "true"}
    urls = {
        "page": (f"/explore/?dataset={dataset.id}", {}),
        "table": (f"/explore/{dataset.id}/table/?sort=lgNe&dir=asc&page=2000", htmx),
        "histogram": (f"/explore/{dataset.id}/histogram.json?column=lgNmu&bins=40", {}),
        "composition": (f"/explore/{dataset.id}/composition/", htmx),
    }
    # One request of each first, so connections and templates are warm in both series.
    for url, headers in urls.values():
        _time_ms(client, url, headers)

    prefix, lifetime = aggregates.CACHE_PREFIX, aggregates.CACHE_SECONDS
    cold: dict[str, list[float]] = {name: [] for name in urls}
    warm: dict[str, list[float]] = {name: [] for name in urls}
    try:
        aggregates.CACHE_SECONDS = 300  # the cold runs' entries expire soon
        for _ in range(REPEATS):
            for name, (url, headers) in urls.items():
                aggregates.CACHE_PREFIX = f"explore:bench-cold-{uuid.uuid4().hex}"
                cold[name].append(_time_ms(client, url, headers))
        aggregates.CACHE_PREFIX = f"explore:bench-warm-{uuid.uuid4().hex}"
        for url, headers in urls.values():
            _time_ms(client, url, headers)  # fill
        for _ in range(REPEATS):
            for name, (url, headers) in urls.items():
                warm[name].append(_time_ms(client, url, headers))
    finally:
        aggregates.CACHE_PREFIX, aggregates.CACHE_SECONDS = prefix, lifetime

    result: dict = {}
    for name in urls:
        result[f"{name}_ms"] = round(statistics.median(warm[name]), 1)
        result[f"{name}_cold_ms"] = round(statistics.median(cold[name]), 1)
    result.update(
        target_ms=TARGET_MS,
        ok=all(result[f"{name}_ms"] <= TARGET_MS for name in urls),
        cold_ok=all(result[f"{name}_cold_ms"] <= TARGET_MS for name in urls),
        showers=N_SHOWERS,
        repeats=REPEATS,
        dataset_created=created,
        dataset_setup_s=round(setup_s, 1),
        predictions_s=round(predict_s, 1),
        forests_active=active,
    )
    return {"explore": result}
