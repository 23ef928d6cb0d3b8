"""Batch predictions: every forest answers every shower ahead of time, in idempotent chunks."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.db.models import Count

from classify.datasets import DatasetSpec, create_simulated_dataset
from classify.forests import read_card
from classify.hadronic_models import HADRONIC_MODELS
from classify.models import Dataset, ForestVersion, PrecomputeBatch, Prediction
from classify.services import (
    activate_if_complete,
    missing_predictions,
    predict_chunk,
    register_forest_version,
    start_precompute,
)
from tests.conftest import requires_services
from tests.factories import require_forests


def small_dataset(name: str, showers: int, seed: int) -> Dataset:
    require_forests()
    return create_simulated_dataset(
        DatasetSpec(
            name=name,
            purpose="deck",
            hadronic_models=tuple(HADRONIC_MODELS),
            showers=showers,
            seed=seed,
        )
    )


def assert_exactly_one_row_per_shower_model_version(dataset: Dataset) -> None:
    for key in HADRONIC_MODELS:
        version = read_card(key)["version"]
        rows = Prediction.objects.filter(
            shower__dataset=dataset, hadronic_model=key, model_version=version
        )
        assert rows.count() == dataset.shower_count
        assert rows.values("shower_id").annotate(n=Count("id")).filter(n__gt=1).count() == 0


@pytest.mark.django_db
def test_setup_leaves_no_shower_without_every_forests_prediction():
    dataset = small_dataset("batch-setup", 250, 31)
    assert missing_predictions(datasets=[dataset])
    from classify.services import ensure_predictions

    ensure_predictions()
    assert not missing_predictions(datasets=[dataset])
    assert_exactly_one_row_per_shower_model_version(dataset)
    assert set(
        ForestVersion.objects.filter(active=True).values_list("hadronic_model", flat=True)
    ) == set(HADRONIC_MODELS)


@pytest.mark.django_db
def test_a_chunk_run_twice_writes_each_row_once_with_probabilities_summing_to_one():
    dataset = small_dataset("batch-twice", 120, 32)
    batch = start_precompute(
        dataset_id=dataset.id, hadronic_model="epos-lhc", eager=True, chunk_size=50
    )
    assert batch.status == PrecomputeBatch.Status.DONE and batch.done == 120
    before = list(
        Prediction.objects.filter(shower__dataset=dataset)
        .order_by("id")
        .values_list("id", "prob_fe")
    )
    predict_chunk(batch_id=batch.id, row_start=0, row_stop=50)
    predict_chunk(batch_id=batch.id, row_start=40, row_stop=120)
    after = list(
        Prediction.objects.filter(shower__dataset=dataset)
        .order_by("id")
        .values_list("id", "prob_fe")
    )
    assert [row_id for row_id, _ in before] == [row_id for row_id, _ in after]
    assert [p for _, p in after] == pytest.approx([p for _, p in before], abs=1e-12)
    for prediction in Prediction.objects.filter(shower__dataset=dataset):
        assert sum(prediction.probabilities.values()) == pytest.approx(1.0)
        assert prediction.predicted_group == max(
            prediction.probabilities, key=prediction.probabilities.get
        )


@pytest.mark.django_db
def test_a_new_forest_version_serves_only_once_it_has_answered_every_shower():
    dataset = small_dataset("batch-switch", 200, 33)
    key = "sibyll-2.3c"
    current = read_card(key)["version"]
    ForestVersion.objects.create(hadronic_model=key, version="old-version", active=True)
    register_forest_version(key, version=current, accuracy=None)
    batch = PrecomputeBatch.objects.create(
        dataset=dataset, hadronic_model=key, model_version=current, total=200, chunks_total=2
    )
    predict_chunk(batch_id=batch.id, row_start=0, row_stop=100)
    assert not activate_if_complete(key, current)
    assert ForestVersion.objects.get(hadronic_model=key, active=True).version == "old-version"
    predict_chunk(batch_id=batch.id, row_start=100, row_stop=200)
    assert ForestVersion.objects.get(hadronic_model=key, active=True).version == current
    batch.refresh_from_db()
    assert batch.status == PrecomputeBatch.Status.DONE and batch.done == 200


@pytest.mark.django_db
def test_the_precompute_command_reports_progress_and_refuses_unknown_names():
    small_dataset("batch-command", 90, 34)
    out = io.StringIO()
    call_command(
        "precompute_predictions", "--dataset", "batch-command", "--wait", "--in-process", stdout=out
    )
    text = out.getvalue()
    assert "[##############################] 270/270" in text
    assert "all 3 batch(es) complete" in text
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no dataset named nope"):
        call_command("precompute_predictions", "--dataset", "nope", stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown hadronic model"):
        call_command("precompute_predictions", "--model", "dpmjet", stdout=io.StringIO())


def wait_for_batches(dataset: Dataset, *, timeout_s: float) -> list[PrecomputeBatch]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        batches = list(PrecomputeBatch.objects.filter(dataset=dataset))
        if len(batches) == len(HADRONIC_MODELS) and all(
            b.status == PrecomputeBatch.Status.DONE for b in batches
        ):
            return batches
        time.sleep(0.3)
    raise AssertionError(
        f"batches not done in {timeout_s}s: {[(b.hadronic_model, b.done, b.total, b.status) for b in batches]}"
    )


@requires_services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_precomputes_a_dataset_through_redis(celery_worker):
    dataset = small_dataset("batch-worker", 600, 35)
    for key in HADRONIC_MODELS:
        start_precompute(dataset_id=dataset.id, hadronic_model=key, chunk_size=150)
    batches = wait_for_batches(dataset, timeout_s=120)
    assert all(batch.done == 600 and batch.chunks_done == 4 for batch in batches)
    assert_exactly_one_row_per_shower_model_version(dataset)


@requires_services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_leaves_exactly_one_row_per_shower_after_restart(celery_worker):
    dataset = small_dataset("batch-kill", 3000, 36)
    for key in HADRONIC_MODELS:
        start_precompute(dataset_id=dataset.id, hadronic_model=key, chunk_size=100)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = sum(PrecomputeBatch.objects.filter(dataset=dataset).values_list("done", flat=True))
        if done >= 300:
            break
        time.sleep(0.05)
    total = 3 * dataset.shower_count
    assert 0 < done < total, "the kill must land in the middle of the batch"
    celery_worker.kill()
    celery_worker.start()
    wait_for_batches(dataset, timeout_s=240)
    assert_exactly_one_row_per_shower_model_version(dataset)


@requires_services
@pytest.mark.django_db(transaction=True)
def test_the_precompute_command_waits_for_the_workers_with_a_progress_bar(celery_worker):
    small_dataset("batch-command-worker", 300, 37)
    out = io.StringIO()
    call_command(
        "precompute_predictions",
        "--dataset",
        "batch-command-worker",
        "--wait",
        "--timeout",
        "120",
        stdout=out,
    )
    assert "900/900" in out.getvalue()
    assert "all 3 batch(es) complete" in out.getvalue()


@pytest.mark.django_db
def test_staff_see_the_progress_of_every_batch_and_others_do_not(client, django_user_model):
    dataset = small_dataset("batch-progress", 60, 38)
    start_precompute(dataset_id=dataset.id, hadronic_model="qgsjet-ii-04", eager=True)
    PrecomputeBatch.objects.create(
        dataset=dataset,
        hadronic_model="epos-lhc",
        model_version="v-next",
        total=60,
        done=15,
        status=PrecomputeBatch.Status.RUNNING,
    )
    anonymous = client.get("/staff/predictions/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    staff = django_user_model.objects.create_user(
        "operator", password="pw-1234-long", is_staff=True
    )
    client.force_login(staff)
    page = client.get("/staff/predictions/").content.decode()
    assert 'hx-trigger="every 2s"' in page
    partial = client.get("/staff/predictions/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert 'data-status="running"' in partial and "15 / 60" in partial and "25.0 %" in partial
    assert 'data-status="done"' in partial and "60 / 60" in partial


@pytest.mark.django_db
def test_a_chunk_that_fails_for_good_is_counted_as_an_error():
    from classify.tasks import predict_chunk as predict_chunk_task

    dataset = small_dataset("batch-error", 30, 39)
    batch = PrecomputeBatch.objects.create(
        dataset=dataset, hadronic_model="epos-lhc", model_version="not-on-disk", total=30
    )
    result = predict_chunk_task.apply(args=(batch.id, 0, 30), throw=False)
    assert result.failed()
    batch.refresh_from_db()
    assert batch.errors == 1 and "StaleForest" in batch.last_error
    assert not Prediction.objects.filter(model_version="not-on-disk").exists()
