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
        assert rows.values("shower_id").annotate(n=Count("*")).filter(n__gt=1).count() == 0


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
        .order_by("shower_id")
        .values_list("shower_id", "prob_fe")
    )
    predict_chunk(batch_ids=[batch.id], row_start=0, row_stop=50)
    predict_chunk(batch_ids=[batch.id], row_start=40, row_stop=120)
    after = list(
        Prediction.objects.filter(shower__dataset=dataset)
        .order_by("shower_id")
        .values_list("shower_id", "prob_fe")
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
    predict_chunk(batch_ids=[batch.id], row_start=0, row_stop=100)
    assert not activate_if_complete(key, current)
    assert ForestVersion.objects.get(hadronic_model=key, active=True).version == "old-version"
    predict_chunk(batch_ids=[batch.id], row_start=100, row_stop=200)
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


@pytest.mark.django_db
def test_overlapping_and_repeated_chunks_write_and_count_each_row_once():
    """A chunk whose rows partly exist (PostgreSQL: the COPY is refused and the staging
    table adds the missing rows) and a chunk redelivered whole write nothing twice, and
    the batch's progress and group counts match the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classify.services import counted_rows

    dataset = small_dataset("batch-overlap", 200, 40)
    key = "epos-lhc"
    version = read_card(key)["version"]
    register_forest_version(key, version=version, accuracy=None)
    batch = PrecomputeBatch.objects.create(
        dataset=dataset, hadronic_model=key, model_version=version, total=200, chunks_total=2
    )
    with CaptureQueriesContext(connection) as first:
        predict_chunk(batch_ids=[batch.id], row_start=0, row_stop=120)
    with CaptureQueriesContext(connection) as overlapping:
        predict_chunk(batch_ids=[batch.id], row_start=100, row_stop=200)
    if connection.vendor == "postgresql":
        staged = [query["sql"] for query in overlapping if "prediction_stage" in query["sql"]]
        assert staged, "rows 100-119 exist: the direct COPY must give way to the staging table"
        assert not [query for query in first if "prediction_stage" in query["sql"]]
    predict_chunk(batch_ids=[batch.id], row_start=0, row_stop=120)  # redelivered after its commit

    batch.refresh_from_db()
    rows = Prediction.objects.filter(shower__dataset=dataset, hadronic_model=key)
    assert rows.count() == 200
    assert rows.values("shower_id").annotate(n=Count("*")).filter(n__gt=1).count() == 0
    assert batch.done == 200 and batch.status == PrecomputeBatch.Status.DONE
    assert batch.predicted_counts == counted_rows(batch)
    assert sum(batch.predicted_counts.values()) == 200


def test_binary_copy_rows_round_trip_and_refuse_what_is_not_copy_data():
    import struct

    import numpy as np

    from classify import pgcopy

    data = pgcopy.encode_prediction_rows(
        shower_ids=np.array([7, 123456789012]),
        hadronic_model="epos-lhc",
        model_version="abc123",
        probabilities=np.array([[0.5, 0.1, 0.1, 0.2, 0.1], [0.0, 0.9, 0.0, 0.0, 0.1]]),
        group_names=("p", "He", "C", "Si", "Fe"),
        group_index=np.array([0, 1]),
    )
    assert data.startswith(pgcopy.HEADER) and data.endswith(pgcopy.TRAILER)
    body, rows = data[len(pgcopy.HEADER) : -len(pgcopy.TRAILER)], []
    while body:
        (fields,), body = struct.unpack("!h", body[:2]), body[2:]
        values = []
        for _ in range(fields):
            (length,), body = struct.unpack("!i", body[:4]), body[4:]
            values.append(body[:length])
            body = body[length:]
        rows.append(values)
    assert [struct.unpack("!q", row[0])[0] for row in rows] == [7, 123456789012]
    assert [row[1] for row in rows] == [b"epos-lhc", b"epos-lhc"]
    assert [row[-1] for row in rows] == [b"p", b"He"]  # one and two characters
    assert struct.unpack("!d", rows[1][4])[0] == pytest.approx(0.9)

    fields = [("shower_id", ">i8"), ("lgE", ">f8")]
    encoded = b"".join(
        struct.pack("!hiqid", 2, 8, shower_id, 8, energy)
        for shower_id, energy in ((1, 15.5), (2, 16.25))
    )
    decoded = pgcopy.decode_rows(pgcopy.HEADER + encoded + pgcopy.TRAILER, fields)
    assert decoded["shower_id"].tolist() == [1, 2] and decoded["lgE"].tolist() == [15.5, 16.25]
    with pytest.raises(pgcopy.CopyFormatError):
        pgcopy.decode_rows(b"not copy data", fields)
    with pytest.raises(pgcopy.CopyFormatError):
        pgcopy.decode_rows(pgcopy.HEADER + encoded[:-3] + pgcopy.TRAILER, fields)


@pytest.mark.django_db
def test_prediction_rows_carry_only_the_indexes_their_queries_use():
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "classify_prediction")
        columns = [
            column.name
            for column in connection.introspection.get_table_description(
                cursor, "classify_prediction"
            )
        ]
    assert "id" not in columns, "no surrogate key: (shower, model, version) is the key"
    keys = [tuple(c["columns"]) for c in constraints.values() if c["primary_key"]]
    assert len(keys) == 1
    assert set(keys[0]) == {"shower_id", "hadronic_model", "model_version"}
    if connection.vendor == "postgresql":  # SQLite's introspection sorts a key's columns
        assert keys[0][0] == "shower_id", "the key leads with shower_id: lookups by shower use it"
    others = [
        tuple(c["columns"])
        for c in constraints.values()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    ]
    assert others == [], "every other index would cost the precomputation a write per row"
    foreign = [c for c in constraints.values() if c["foreign_key"]]
    assert foreign == [], "the shower reference is kept by the dataset lock, not a trigger per row"


def test_chunks_are_equal_and_come_in_multiples_of_the_worker_slots():
    from classify.services import _chunk_bounds

    for total, size, slots in [
        (100_000, 20_000, 2),
        (600, 150, 2),
        (3000, 100, 4),
        (7, 2, 3),
        (1, 50, 2),
    ]:
        bounds = _chunk_bounds(total, size, slots)
        assert bounds[0][0] == 0 and bounds[-1][1] == total
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
        lengths = [stop - start for start, stop in bounds]
        assert max(lengths) <= size and max(lengths) - min(lengths) <= 1
        assert len(bounds) == 1 or len(bounds) % slots == 0
    assert [stop - start for start, stop in _chunk_bounds(100_000, 20_000, 2)] == [
        16_666,
        16_667,
        16_667,
        16_666,
        16_667,
        16_667,
    ]
    assert _chunk_bounds(0, 20_000, 2) == []


@pytest.mark.django_db
def test_one_chunk_reads_its_showers_once_for_every_forest(monkeypatch):
    from classify import services

    reads = []
    real_read = services.dataset_features

    def counting_read(dataset_id, *, row_range):
        reads.append(row_range)
        return real_read(dataset_id, row_range=row_range)

    monkeypatch.setattr(services, "dataset_features", counting_read)
    dataset = small_dataset("batch-shared-read", 160, 41)
    batches = services.start_precompute_many(
        dataset_id=dataset.id, hadronic_models=list(HADRONIC_MODELS), eager=True, chunk_size=40
    )
    assert [batch.hadronic_model for batch in batches] == list(HADRONIC_MODELS)
    assert all(b.status == PrecomputeBatch.Status.DONE and b.done == 160 for b in batches)
    assert reads == [(0, 40), (40, 80), (80, 120), (120, 160)], "each chunk read once"
    assert_exactly_one_row_per_shower_model_version(dataset)


@pytest.mark.django_db
def test_a_stale_forest_fails_its_own_batch_and_the_chunk_still_serves_the_others():
    from classify.tasks import predict_chunk as predict_chunk_task

    dataset = small_dataset("batch-stale-one", 40, 42)
    good_key = "qgsjet-ii-04"
    good = PrecomputeBatch.objects.create(
        dataset=dataset,
        hadronic_model=good_key,
        model_version=read_card(good_key)["version"],
        total=40,
    )
    stale = PrecomputeBatch.objects.create(
        dataset=dataset, hadronic_model="epos-lhc", model_version="not-on-disk", total=40
    )
    result = predict_chunk_task.apply(args=([good.id, stale.id], 0, 40), throw=False)
    assert result.failed()
    good.refresh_from_db()
    stale.refresh_from_db()
    assert good.done == 40 and good.errors == 0 and good.status == PrecomputeBatch.Status.DONE
    assert stale.errors == 1 and "StaleForest" in stale.last_error and stale.done == 0
    assert Prediction.objects.filter(shower__dataset=dataset, hadronic_model=good_key).count() == 40
    assert not Prediction.objects.filter(model_version="not-on-disk").exists()


@pytest.mark.django_db
def test_deleting_a_dataset_deletes_its_predictions():
    dataset = small_dataset("batch-delete", 50, 43)
    start_precompute(dataset_id=dataset.id, hadronic_model="sibyll-2.3c", eager=True)
    shower_ids = list(dataset.showers.values_list("id", flat=True))
    assert Prediction.objects.filter(shower_id__in=shower_ids).count() == 50
    dataset.delete()
    assert not Prediction.objects.filter(shower_id__in=shower_ids).exists()


@pytest.mark.django_db(transaction=True)
def test_a_dataset_deleted_while_a_chunk_writes_leaves_no_prediction_behind():
    """The chunk holds its dataset's row (FOR KEY SHARE) while it writes; the deletion
    locks that row first, waits for the chunk's commit and then deletes its rows too."""
    import threading

    from django.db import connection, transaction

    from classify.services import hold_dataset, write_predictions

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time; the PostgreSQL pass runs this")
    dataset = small_dataset("batch-delete-race", 30, 44)
    shower_ids = list(dataset.showers.order_by("row").values_list("id", flat=True))
    deleted = threading.Event()
    errors = []

    def delete_dataset():
        from django.db import connection as thread_connection

        try:
            Dataset.objects.filter(id=dataset.id).delete()
            deleted.set()
        except Exception as error:  # reported by the main thread
            errors.append(error)
        finally:
            thread_connection.close()

    import numpy as np

    with transaction.atomic():
        assert hold_dataset(dataset.id)
        deleter = threading.Thread(target=delete_dataset)
        deleter.start()
        assert not deleted.wait(1.0), "the deletion must wait for the writing chunk"
        write_predictions(
            shower_ids=np.array(shower_ids, dtype=np.int64),
            probabilities=np.full((len(shower_ids), 5), 0.2),
            hadronic_model="epos-lhc",
            model_version="race-test",
        )
    deleter.join(timeout=30)
    assert not errors and deleted.is_set()
    assert not Prediction.objects.filter(shower_id__in=shower_ids).exists()
    with transaction.atomic():
        assert not hold_dataset(dataset.id), "a chunk arriving after the deletion writes nothing"


def batches_of_every_forest(dataset: Dataset, *, chunks: int) -> dict[str, PrecomputeBatch]:
    """A batch per forest (its current version) over the whole dataset, no rows yet."""
    return {
        key: PrecomputeBatch.objects.create(
            dataset=dataset,
            hadronic_model=key,
            model_version=read_card(key)["version"],
            total=dataset.shower_count,
            chunks_total=chunks,
        )
        for key in HADRONIC_MODELS
    }


@pytest.mark.django_db
def test_a_process_loads_each_forest_once_ahead_of_its_first_chunk(monkeypatch):
    from classify import services

    dataset = small_dataset("batch-load-ahead", 120, 44)
    loads: list[str] = []
    real_load = services.load_forest

    def counting_load(key, *args, **kwargs):
        loads.append(key)
        return real_load(key, *args, **kwargs)

    monkeypatch.setattr(services, "load_forest", counting_load)
    monkeypatch.setattr(services, "_FOREST_CACHE", {})
    monkeypatch.setattr(services, "_FOREST_LOADS", {})
    batches = list(batches_of_every_forest(dataset, chunks=2).values())
    ids = [batch.id for batch in batches]
    predict_chunk(batch_ids=ids, row_start=0, row_stop=60)
    assert sorted(loads) == sorted(HADRONIC_MODELS), "each forest loaded once, for its batch"
    assert services._FOREST_LOADS == {}, "every load started ahead was taken up"
    predict_chunk(batch_ids=ids, row_start=60, row_stop=120)
    assert sorted(loads) == sorted(HADRONIC_MODELS), "the second chunk loads nothing"
    for batch in batches:
        batch.refresh_from_db()
        assert batch.done == 120


@pytest.mark.django_db
def test_a_forest_that_fails_to_load_ahead_fails_its_batch_alone(monkeypatch):
    from classify import services
    from classify.services import ChunkFailed

    dataset = small_dataset("batch-load-ahead-missing", 60, 45)
    real_load = services.load_forest

    def load_or_miss(key, *args, **kwargs):
        if key == "epos-lhc":
            raise services.ForestMissing("no trained forest for epos-lhc (test)")
        return real_load(key, *args, **kwargs)

    monkeypatch.setattr(services, "load_forest", load_or_miss)
    monkeypatch.setattr(services, "_FOREST_CACHE", {})
    monkeypatch.setattr(services, "_FOREST_LOADS", {})
    batches = batches_of_every_forest(dataset, chunks=1)
    with pytest.raises(ChunkFailed) as failed:
        predict_chunk(batch_ids=[b.id for b in batches.values()], row_start=0, row_stop=60)
    assert list(failed.value.errors) == [batches["epos-lhc"].id]
    assert "ForestMissing" in failed.value.errors[batches["epos-lhc"].id]
    for key, batch in batches.items():
        batch.refresh_from_db()
        assert batch.done == (0 if key == "epos-lhc" else 60)
