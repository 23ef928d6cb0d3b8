"""What writes in the classify app: batches of predictions, forest versions."""

from __future__ import annotations

import functools
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from celery import chord
from django.conf import settings
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.models import Count, Exists, F, OuterRef
from django.db.models.functions import Least
from django.utils import timezone

from . import pgcopy
from .datasets import dataset_features
from .forests import (
    ForestMismatch,
    ForestMissing,
    TrainedForest,
    load_forest,
    predict_features,
    read_card,
)
from .hadronic_models import HADRONIC_MODELS
from .models import (
    PREDICTED_COUNT_FIELDS,
    Dataset,
    ForestVersion,
    PrecomputeBatch,
    Prediction,
    Shower,
)
from .physics import MASS_GROUPS
from .signals import forest_activated

logger = logging.getLogger(__name__)

# Larger chunks amortise the per-chunk costs (a task, a read, a COPY) and the
# forest's per-call overhead (predict_proba per 1,000 showers, one thread:
# 43 ms in chunks of 2,000, 28 ms of 10,000, 26 ms of 20,000); still about a
# second of work each, so a lost chunk is cheap to redo.
CHUNK_SIZE = 20_000
# Inside a worker each process predicts with two threads, though the worker's
# own concurrency already fills the cores: while one process reads a chunk or
# waits for its last write, the other's second thread uses the idle core
# (make bench, precompute, 2 processes: pipeline/raw 0.67–0.77, median 0.72,
# against 0.68–0.75, median 0.70, with one thread in the same session).
PREDICT_JOBS_IN_WORKERS = 2


class StaleForest(RuntimeError):
    """The forest on disk is not the version a batch was started for."""


# Each worker process loads each forest once, lazily, on its first chunk.
_FOREST_CACHE: dict[str, TrainedForest] = {}
# Forests being loaded in the background for the chunk at hand (see load_forests_ahead).
_FOREST_LOADS: dict[str, Future] = {}
# This process's helper threads by name, each started on first use (so never
# inherited by a fork): the forest loader and the prediction writer.
_THREADS: dict[str, tuple[int, ThreadPoolExecutor]] = {}


def _process_thread(name: str) -> ThreadPoolExecutor:
    pid = os.getpid()
    started = _THREADS.get(name)
    if started is None or started[0] != pid:
        if name == "forest-loader":
            _FOREST_LOADS.clear()  # loads of the parent process, which this one never sees
        _THREADS[name] = (pid, ThreadPoolExecutor(max_workers=1, thread_name_prefix=name))
    return _THREADS[name][1]


def load_forests_ahead(batches) -> None:
    """Start loading the forests these batches need and this process lacks, in a thread.

    Still lazy (only on a chunk that needs them) but not in the chunk's way:
    unpickling a forest (18–60 ms) overlaps the chunk's read of its features
    and the first forest's prediction, which releases the GIL. forest_for
    waits for a load it needs; a load that failed is done again there, where
    its error is raised and reported as the batch's.
    """
    loader = _process_thread("forest-loader")
    for batch in batches:
        forest = _FOREST_CACHE.get(batch.hadronic_model)
        if forest is not None and forest.version == batch.model_version:
            continue
        if batch.hadronic_model not in _FOREST_LOADS:
            _FOREST_LOADS[batch.hadronic_model] = loader.submit(load_forest, batch.hadronic_model)


def forest_for(hadronic_model: str, version: str) -> TrainedForest:
    pending = _FOREST_LOADS.pop(hadronic_model, None)
    if pending is not None:
        try:
            _FOREST_CACHE[hadronic_model] = pending.result()
        except Exception:  # loaded again just below, which raises it for the batch
            _FOREST_CACHE.pop(hadronic_model, None)
    forest = _FOREST_CACHE.get(hadronic_model)
    if forest is None or forest.version != version:
        forest = load_forest(hadronic_model)
        _FOREST_CACHE[hadronic_model] = forest
    if forest.version != version:
        raise StaleForest(
            f"{hadronic_model}: the batch wants version {version}, the model file is {forest.version}"
        )
    return forest


def current_version(hadronic_model: str) -> str:
    return read_card(hadronic_model)["version"]


def register_forest_version(
    hadronic_model: str, *, version: str, accuracy: float | None
) -> ForestVersion:
    forest_version, _ = ForestVersion.objects.get_or_create(
        hadronic_model=hadronic_model, version=version, defaults={"accuracy": accuracy}
    )
    return forest_version


def version_is_complete(hadronic_model: str, version: str) -> bool:
    """Every dataset with showers has a finished batch of this forest version.

    A batch's `done` counts its rows exactly (written in the same transaction
    as them, see predict_chunk), so the batches answer without scanning the
    predictions: an anti-join of every shower against them cost about a
    second of database time per finished batch on the benchmark database.
    """
    finished = PrecomputeBatch.objects.filter(
        dataset=OuterRef("pk"),
        hadronic_model=hadronic_model,
        model_version=version,
        status=PrecomputeBatch.Status.DONE,
        done__gte=OuterRef("shower_count"),
    )
    return not Dataset.objects.filter(shower_count__gt=0).exclude(Exists(finished)).exists()


@transaction.atomic
def activate_if_complete(hadronic_model: str, version: str) -> bool:
    """Switch the game to a forest version once it has answered every shower.

    The old version keeps serving until then, so no card is ever dealt
    without an answer from every forest.
    """
    if not version_is_complete(hadronic_model, version):
        return False
    target = (
        ForestVersion.objects.select_for_update()
        .filter(hadronic_model=hadronic_model, version=version)
        .first()
    )
    if target is None:
        target = ForestVersion.objects.create(hadronic_model=hadronic_model, version=version)
    if target.active:
        return True
    ForestVersion.objects.filter(hadronic_model=hadronic_model, active=True).update(active=False)
    target.active = True
    target.activated = timezone.now()
    target.save(update_fields=["active", "activated"])
    logger.info("forest %s@%s is now active", hadronic_model, version)
    transaction.on_commit(
        lambda: forest_activated.send(
            sender=ForestVersion, hadronic_model=hadronic_model, version=version
        )
    )
    return True


def _chunk_bounds(
    total_rows: int, chunk_size: int, slots: int | None = None
) -> list[tuple[int, int]]:
    """Equal row ranges of at most `chunk_size` rows, their count a multiple of the worker slots.

    The workers take chunks off the queue one at a time; if the count were not
    a multiple of the slots (worker processes), the last chunk would run while
    the other slots idle: 100,000 showers in 5 chunks of 20,000 on 2 slots take
    three chunk-times, in 6 chunks of 16,667 three smaller ones.
    """
    if total_rows <= 0:
        return []
    slots = max(1, slots or settings.PRECOMPUTE_WORKER_SLOTS)
    count = -(-total_rows // max(1, chunk_size))
    if count > 1:
        count = min(total_rows, -(-count // slots) * slots)
    return [
        (index * total_rows // count, (index + 1) * total_rows // count) for index in range(count)
    ]


def _open_batch(
    dataset: Dataset, hadronic_model: str, *, total: int, chunks: int
) -> tuple[PrecomputeBatch, bool]:
    """Create or resume the batch of (dataset, current forest version); True if it has work."""
    version = current_version(hadronic_model)
    batch, created = PrecomputeBatch.objects.get_or_create(
        dataset=dataset,
        hadronic_model=hadronic_model,
        model_version=version,
        defaults={"total": total, "chunks_total": chunks, "status": PrecomputeBatch.Status.PENDING},
    )
    # A new batch has no rows yet; a resumed one counts them once, and from then
    # on each chunk adds the rows it wrote in the same transaction as the rows.
    counts = dict.fromkeys(MASS_GROUPS, 0) if created else counted_rows(batch)
    done = sum(counts.values())
    if not created and batch.status == PrecomputeBatch.Status.DONE and done == total:
        return batch, False
    PrecomputeBatch.objects.filter(id=batch.id).update(
        status=PrecomputeBatch.Status.RUNNING,
        total=total,
        done=min(done, total),
        **{PREDICTED_COUNT_FIELDS[group]: n for group, n in counts.items()},
        chunks_total=chunks,
        finished=None,
        started=timezone.now(),
    )
    return batch, True


def start_precompute_many(
    *,
    dataset_id: int,
    hadronic_models,
    chunk_size: int = CHUNK_SIZE,
    eager: bool | None = None,
) -> list[PrecomputeBatch]:
    """Create or resume one batch per forest for a dataset and dispatch their chunks together.

    Each chunk task reads its rows' features once and gives them to every
    forest whose batch has work (a chunk of 20,000 rows: 47–64 ms to read, next
    to 300 ms per forest to predict), so three forests cost one read, not three.

    `eager=True` runs the chunks in this process (used by `make setup`, which
    must not depend on a running worker, and by the embedded mode without a
    broker); otherwise a chord of chunk tasks goes to the broker once the
    surrounding transaction commits.
    """
    if eager is None:
        eager = bool(settings.CELERY_TASK_ALWAYS_EAGER)
    dataset = Dataset.objects.get(id=dataset_id)
    total = Shower.objects.filter(dataset=dataset).count()
    bounds = _chunk_bounds(dataset.shower_count or total, chunk_size)
    batches, pending = [], []
    for hadronic_model in dict.fromkeys(hadronic_models):
        batch, has_work = _open_batch(dataset, hadronic_model, total=total, chunks=len(bounds))
        batches.append(batch)
        if has_work:
            pending.append(batch.id)
    if pending:
        from .tasks import finish_batches, predict_chunk

        if eager:
            for start, stop in bounds:
                predict_chunk.apply(args=(pending, start, stop), throw=True)
            finish_batches.apply(args=(None, pending), throw=True)
        else:
            header = [predict_chunk.si(pending, start, stop) for start, stop in bounds]
            transaction.on_commit(lambda: chord(header)(finish_batches.s(pending)))
    for batch in batches:
        batch.refresh_from_db()
    return batches


def start_precompute(
    *, dataset_id: int, hadronic_model: str, chunk_size: int = CHUNK_SIZE, eager: bool | None = None
) -> PrecomputeBatch:
    """The batch of one forest for one dataset (see start_precompute_many)."""
    (batch,) = start_precompute_many(
        dataset_id=dataset_id, hadronic_models=[hadronic_model], chunk_size=chunk_size, eager=eager
    )
    return batch


def counted_rows(batch: PrecomputeBatch) -> dict[str, int]:
    """{group: rows of the batch's (dataset, model, version) predicting it}, from the table."""
    counts = dict.fromkeys(MASS_GROUPS, 0)
    rows = (
        Prediction.objects.filter(
            shower__dataset_id=batch.dataset_id,
            hadronic_model=batch.hadronic_model,
            model_version=batch.model_version,
        )
        .values_list("predicted_group")
        .annotate(n=Count("*"))
        .order_by()
    )
    for group, n in rows:
        counts[group] += n
    return counts


class ChunkFailed(RuntimeError):
    """Some batches of a chunk could not be computed; the others were written.

    `errors` maps each failed batch's id to its error's text; it is the only
    argument, so the exception survives Celery's pickling unchanged.
    """

    def __init__(self, errors: dict[int, str]) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"batch {batch_id}: {error}" for batch_id, error in self.errors.items())


def predict_chunk(*, batch_ids, row_start: int, row_stop: int) -> int:
    """Predict one chunk of rows for every batch named and write their rows; safe to repeat.

    The batches share a dataset; the rows' features are read once. Each
    batch's rows and its progress are written in one transaction, so the
    progress counts each row exactly once: a chunk redelivered after its
    commit writes and counts nothing, one killed before its commit had
    written and counted nothing. A batch whose forest on disk is not its
    version fails alone (ChunkFailed, after the others are written).

    In a worker on PostgreSQL a batch's rows are written by the process's
    writer thread (its own connection) while the next forest predicts: the
    forests release the GIL, and a write mostly waits for the database
    (benchmarks/run.py, precompute: 70–110 ms per 16,667 rows). The chunk
    returns once every write has committed, and fails if any failed.
    """
    started = time.perf_counter()
    batches = list(PrecomputeBatch.objects.filter(id__in=list(batch_ids)).order_by("id"))
    if not batches:
        return 0
    if len({batch.dataset_id for batch in batches}) != 1:
        raise ValueError("the batches of one chunk must share a dataset")
    load_forests_ahead(batches)
    shower_ids, features = dataset_features(batches[0].dataset_id, row_range=(row_start, row_stop))
    read_s = time.perf_counter() - started
    writer = _writer() if connection.vendor == "postgresql" and not _running_eagerly() else None
    failures: dict[int, str] = {}
    writes = []
    for batch in batches:
        try:
            predicted = _predict_batch(batch, features)
        except (StaleForest, ForestMissing, ForestMismatch) as error:
            failures[batch.id] = f"{error.__class__.__name__}: {error}"
            continue
        store = functools.partial(
            _store_batch_chunk, batch, shower_ids, (row_start, row_stop), predicted, read_s
        )
        read_s = 0.0  # the read is counted once, on the chunk's first batch
        if writer is None:
            store()
        else:
            writes.append(writer.submit(_with_fresh_connection, store))
    for write in writes:
        write.result()  # re-raises a write's error here, after all have finished
    if failures:
        raise ChunkFailed(failures)
    return len(shower_ids)


@dataclass(frozen=True)
class _Predicted:
    probabilities: np.ndarray | None
    load_s: float
    predict_s: float


def _predict_batch(batch: PrecomputeBatch, features: np.ndarray) -> _Predicted:
    started = time.perf_counter()
    forest = forest_for(batch.hadronic_model, batch.model_version)
    loaded = time.perf_counter()
    probabilities = None
    if len(features):
        threads = None if _running_eagerly() else PREDICT_JOBS_IN_WORKERS
        probabilities = predict_features(forest, features, threads=threads)
    return _Predicted(probabilities, loaded - started, time.perf_counter() - loaded)


def _writer() -> ThreadPoolExecutor:
    """This process's writer thread."""
    return _process_thread("prediction-writer")


def _with_fresh_connection(job):
    """Run a job in the writer thread on a usable connection (its own, kept between jobs)."""
    close_old_connections()
    try:
        return job()
    except Exception:
        connection.close()  # a broken connection is not kept for the next job
        raise


def _store_batch_chunk(
    batch: PrecomputeBatch,
    shower_ids: np.ndarray,
    rows: tuple[int, int],
    predicted: _Predicted,
    read_s: float,
) -> None:
    started = time.perf_counter()
    written = 0
    with transaction.atomic():
        if len(shower_ids) and hold_dataset(batch.dataset_id):
            new_per_group = write_predictions(
                shower_ids=shower_ids,
                probabilities=predicted.probabilities,
                hadronic_model=batch.hadronic_model,
                model_version=batch.model_version,
            )
            written = int(new_per_group.sum())
        if written:
            PrecomputeBatch.objects.filter(id=batch.id).update(
                done=Least(F("done") + written, F("total")),
                chunks_done=Least(F("chunks_done") + 1, F("chunks_total")),
                **{
                    PREDICTED_COUNT_FIELDS[group]: F(PREDICTED_COUNT_FIELDS[group]) + int(n)
                    for group, n in zip(MASS_GROUPS, new_per_group, strict=True)
                },
            )
        wrote = time.perf_counter()
    committed = time.perf_counter()
    logger.info(
        "batch %s rows %s-%s: %d showers in %.2fs "
        "(load %.3fs, read %.3fs, predict %.3fs, write %.3fs, commit %.3fs; %d new rows)",
        batch.id,
        rows[0],
        rows[1],
        len(shower_ids),
        read_s + predicted.load_s + predicted.predict_s + (committed - started),
        predicted.load_s,
        read_s,
        predicted.predict_s,
        wrote - started,
        committed - wrote,
        written,
    )
    done = PrecomputeBatch.objects.filter(id=batch.id).values_list("done", flat=True).first()
    if done is not None and done >= batch.total:
        finish_batch(batch_id=batch.id)


def hold_dataset(dataset_id: int) -> bool:
    """Keep the dataset's showers from being deleted until this transaction ends; False if gone.

    Prediction.shower has no foreign-key constraint in the database (see the
    model), so this is what keeps a prediction from outliving its shower:
    FOR KEY SHARE on the dataset row, which a deletion of the dataset (the
    only way showers are deleted; it locks the row FOR UPDATE first, see
    `lock_dataset_before_delete`) waits for. Either the deletion comes first
    and this finds no dataset, or this commits first and the deletion then
    removes the new predictions with the showers.
    """
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time: a deletion cannot interleave with the write.
        return Dataset.objects.filter(id=dataset_id).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Dataset._meta.db_table} WHERE id = %s FOR KEY SHARE", [dataset_id]
        )
        return cursor.fetchone() is not None


def _running_eagerly() -> bool:
    """True unless called by a task running in a Celery worker."""
    from celery._state import get_current_task

    task = get_current_task()
    return task is None or bool(getattr(task.request, "is_eager", True))


PREDICTION_COLUMNS = ("predicted_group", "prob_p", "prob_he", "prob_c", "prob_si", "prob_fe")
# The order of the binary COPY rows (pgcopy.encode_prediction_rows puts the group last).
PREDICTION_COPY_COLUMNS = (
    "shower_id",
    "hadronic_model",
    "model_version",
    "prob_p",
    "prob_he",
    "prob_c",
    "prob_si",
    "prob_fe",
    "predicted_group",
)


def write_predictions(
    *, shower_ids: np.ndarray, probabilities: np.ndarray, hadronic_model: str, model_version: str
) -> np.ndarray:
    """Insert one row per shower for this (model, version) unless it is there; idempotent.

    Returns how many new rows predict each group (MASS_GROUPS order). An
    existing row is left as it is: a (shower, model, version) always gets the
    same answer, since showers are written once and a version names one
    forest file.
    """
    if connection.vendor == "postgresql":
        return _write_with_copy(shower_ids, probabilities, hadronic_model, model_version)
    return _write_with_executemany(shower_ids, probabilities, hadronic_model, model_version)


def _is_unique_violation(error: IntegrityError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == "23505"


def _write_with_copy(
    shower_ids, probabilities, hadronic_model: str, model_version: str
) -> np.ndarray:
    """PostgreSQL: binary COPY straight into the table; on a conflict, through a staging table.

    A chunk's rows are new in all but a redelivery or a re-run, and then the
    unique (shower, model, version) refuses the COPY as a whole; the savepoint
    rolls it back and the same bytes go to a temporary table, from which
    INSERT … ON CONFLICT DO NOTHING adds only the missing rows. Measured on
    20,000 rows (precompute profile of benchmarks/run.py, medians of 3): new
    rows 420–450 ms, a redelivered chunk 145–165 ms, against 800–825 ms and
    645–680 ms for the text COPY into a staging table plus INSERT … ON
    CONFLICT DO UPDATE that this replaces. Without the foreign-key trigger
    (Prediction.shower has none in the database), 20,000 new rows into a table
    of 200,000 took 58–95 ms against 182–242 ms with it; what is left is the
    heap and the two indexes.
    """
    best = probabilities.argmax(axis=1)
    payload = pgcopy.encode_prediction_rows(
        shower_ids=shower_ids,
        hadronic_model=hadronic_model,
        model_version=model_version,
        probabilities=probabilities,
        group_names=MASS_GROUPS,
        group_index=best,
    )
    table = Prediction._meta.db_table
    columns = ", ".join(PREDICTION_COPY_COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                with cursor.cursor.copy(
                    f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.write(payload)
            return np.bincount(best, minlength=len(MASS_GROUPS))
        except IntegrityError as error:
            if not _is_unique_violation(error):
                raise
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS prediction_stage "
            "(shower_id bigint, hadronic_model text, model_version text, prob_p float8, "
            "prob_he float8, prob_c float8, prob_si float8, prob_fe float8, "
            "predicted_group text) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE prediction_stage")
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(
                f"COPY prediction_stage ({columns}) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.write(payload)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM prediction_stage "
            "ON CONFLICT (shower_id, hadronic_model, model_version) DO NOTHING "
            "RETURNING predicted_group"
        )
        index = {group: i for i, group in enumerate(MASS_GROUPS)}
        new_groups = [index[group] for (group,) in cursor.fetchall()]
        return np.bincount(np.array(new_groups, dtype=np.int64), minlength=len(MASS_GROUPS))


def _write_with_executemany(
    shower_ids, probabilities, hadronic_model: str, model_version: str
) -> np.ndarray:
    """SQLite (the embedded default): the missing rows with one prepared INSERT, many rows.

    The rows already there are looked up first (by the chunk's id range), so
    the counts per group are those of the new rows; ON CONFLICT DO NOTHING
    still guards the unique (shower, model, version).
    """
    best = probabilities.argmax(axis=1)
    present = np.fromiter(
        Prediction.objects.filter(
            hadronic_model=hadronic_model,
            model_version=model_version,
            shower_id__gte=int(shower_ids.min()),
            shower_id__lte=int(shower_ids.max()),
        ).values_list("shower_id", flat=True),
        dtype=np.int64,
    )
    new = ~np.isin(shower_ids, present)
    rows = [
        (shower_id, hadronic_model, model_version, *probability_row, MASS_GROUPS[group])
        for shower_id, probability_row, group in zip(
            shower_ids[new].tolist(), probabilities[new].tolist(), best[new].tolist(), strict=True
        )
    ]
    if rows:
        table = Prediction._meta.db_table
        columns = ", ".join(PREDICTION_COPY_COLUMNS)
        marks = ", ".join(["%s"] * len(PREDICTION_COPY_COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
                "ON CONFLICT (shower_id, hadronic_model, model_version) DO NOTHING",
                rows,
            )
    return np.bincount(best[new], minlength=len(MASS_GROUPS))


def finish_batch(*, batch_id: int) -> str:
    """Mark a batch done when all its rows exist; then maybe switch the game to this version."""
    completed_now = False
    with transaction.atomic():
        batch = PrecomputeBatch.objects.select_for_update().get(id=batch_id)
        # `done` counts rows exactly (see predict_chunk), so no count of the table here.
        if batch.done < batch.total:
            return batch.status
        if batch.status != PrecomputeBatch.Status.DONE:
            completed_now = True
            batch.status = PrecomputeBatch.Status.DONE
            batch.chunks_done = batch.chunks_total
            batch.finished = timezone.now()
            batch.save(update_fields=["status", "chunks_done", "finished"])
    last_of_dataset = not (
        PrecomputeBatch.objects.filter(dataset_id=batch.dataset_id)
        .exclude(status=PrecomputeBatch.Status.DONE)
        .exists()
    )
    if completed_now and last_of_dataset and connection.vendor == "postgresql":
        # Fresh planner statistics: a table that grew from empty to hundreds of
        # thousands of rows otherwise gets nested-loop plans for the deck queries.
        # Once per dataset: its forests' batches usually finish together.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Prediction._meta.db_table}")
    activate_if_complete(batch.hadronic_model, batch.model_version)
    if completed_now and last_of_dataset:
        from .tasks import schedule_explore_warmup

        schedule_explore_warmup([batch.dataset_id])
    return PrecomputeBatch.Status.DONE


def finish_batches(*, batch_ids) -> list[str]:
    """The chord's callback for a chunk group: finish each of its batches."""
    return [finish_batch(batch_id=batch_id) for batch_id in batch_ids]


def start_precompute_for_dataset(
    dataset: Dataset, *, eager: bool | None = None
) -> list[PrecomputeBatch]:
    """After an import: every forest answers every shower of the new dataset."""
    keys = []
    for key in HADRONIC_MODELS:
        try:
            current_version(key)
        except FileNotFoundError:
            logger.warning("no forest for %s yet; skipping its predictions", key)
            continue
        keys.append(key)
    if not keys:
        return []
    return start_precompute_many(dataset_id=dataset.id, hadronic_models=keys, eager=eager)


@dataclass(frozen=True)
class Missing:
    dataset: Dataset
    hadronic_model: str
    version: str
    missing: int


def missing_predictions(*, datasets=None, models=None) -> list[Missing]:
    """Which (dataset, forest) pairs lack predictions from the forest's current version."""
    result = []
    datasets = list(datasets if datasets is not None else Dataset.objects.all())
    for key in models or list(HADRONIC_MODELS):
        version = current_version(key)
        counts = dict(
            Prediction.objects.filter(hadronic_model=key, model_version=version)
            .values("shower__dataset_id")
            .annotate(n=Count("*"))
            .values_list("shower__dataset_id", "n")
        )
        for dataset in datasets:
            lacking = dataset.shower_count - counts.get(dataset.id, 0)
            if lacking > 0:
                result.append(Missing(dataset, key, version, lacking))
    return result


def ensure_predictions(*, stdout=None) -> None:
    """`make setup`: compute every missing prediction in this process, then activate."""
    by_dataset: dict[int, list[str]] = {}
    for gap in missing_predictions():
        if stdout:
            stdout.write(
                f"predicting {gap.dataset.name} with {gap.hadronic_model}@{gap.version}: {gap.missing} showers"
            )
        by_dataset.setdefault(gap.dataset.id, []).append(gap.hadronic_model)
    for dataset_id, keys in by_dataset.items():
        start_precompute_many(dataset_id=dataset_id, hadronic_models=keys, eager=True)
    for key in HADRONIC_MODELS:
        activate_if_complete(key, current_version(key))


def precompute_new_version(
    hadronic_model: str, *, version: str, accuracy: float | None = None
) -> list:
    """After training: compute the new version for every dataset; the game switches when done."""
    register_forest_version(hadronic_model, version=version, accuracy=accuracy)
    batches = [
        start_precompute(dataset_id=dataset.id, hadronic_model=hadronic_model)
        for dataset in Dataset.objects.all()
    ]
    activate_if_complete(hadronic_model, version)
    return batches


def record_batch_error(*, batch_id: int, error: str) -> None:
    PrecomputeBatch.objects.filter(id=batch_id).update(
        errors=F("errors") + 1, last_error=error[:2000]
    )
