"""Celery tasks that precompute every forest's answer for every shower.

The request path never runs a forest: these tasks do, in chunks of at most
`services.CHUNK_SIZE` showers, each chunk for every forest whose batch of the
dataset has work (the features are read once). Each chunk is idempotent (rows that exist are left alone,
on the unique (shower, model, version)), so a redelivered message or a re-run
never duplicates a row; `acks_late` with `reject_on_worker_lost` puts a chunk
back on the queue when its worker dies.

`warm_explore_cache` fills a dataset's Explore aggregates after an import,
after its predictions are complete and after a forest version switches, so
the first visitor does not wait for them.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from . import aggregates, services
from .models import Dataset

logger = logging.getLogger(__name__)

TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


def _batch_ids(value) -> list[int]:
    """A chunk names one batch (messages queued before chunks served several) or a list."""
    if value is None:
        return []
    return [int(value)] if isinstance(value, int) else [int(batch_id) for batch_id in value]


class BatchChunkTask(Task):
    """Counts a chunk that failed for good (after its retries) on its batches' progress."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if isinstance(exc, services.ChunkFailed):
            for batch_id, error in exc.errors.items():
                services.record_batch_error(batch_id=batch_id, error=error)
            return
        for batch_id in _batch_ids(args[0] if args else kwargs.get("batch_ids")):
            services.record_batch_error(batch_id=batch_id, error=f"{exc.__class__.__name__}: {exc}")


@shared_task(
    base=BatchChunkTask,
    name="classify.predict_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=True,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
)
def predict_chunk(batch_ids, row_start: int, row_stop: int) -> int:
    """Predict showers with row_start <= row < row_stop of the batches' dataset, per batch."""
    return services.predict_chunk(
        batch_ids=_batch_ids(batch_ids), row_start=row_start, row_stop=row_stop
    )


@shared_task(
    name="classify.finish_batch",
    acks_late=True,
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=True,
    max_retries=6,
)
def finish_batch(_chunk_results, batch_id: int) -> str:
    """The chord's callback: marks the batch complete once every row is there."""
    return services.finish_batch(batch_id=batch_id)


@shared_task(
    name="classify.finish_batches",
    acks_late=True,
    autoretry_for=TRANSIENT_DATABASE_ERRORS,
    retry_backoff=True,
    max_retries=6,
)
def finish_batches(_chunk_results, batch_ids) -> list[str]:
    """The chord's callback of a chunk group: marks each batch complete once its rows are there."""
    return services.finish_batches(batch_ids=_batch_ids(batch_ids))


@shared_task(name="classify.precompute_predictions")
def precompute_predictions(dataset_id: int, hadronic_model: str) -> int:
    """Start (or resume) the precomputation of one dataset with one forest's current version."""
    batch = services.start_precompute(dataset_id=dataset_id, hadronic_model=hadronic_model)
    return batch.id


@shared_task(name="classify.warm_explore_cache", ignore_result=True)
def warm_explore_cache(dataset_id: int) -> bool:
    """Compute and cache what the dataset's Explore page shows (False if the dataset is gone)."""
    dataset = Dataset.objects.filter(id=dataset_id).first()
    if dataset is None:
        return False
    aggregates.warm_cache(dataset)
    return True


def schedule_explore_warmup(dataset_ids) -> None:
    """Warm the datasets' caches once the current transaction commits (a task each).

    A failure to warm never fails the caller: the page then computes what it needs.
    """
    from django.db import transaction

    def send():
        for dataset_id in dataset_ids:
            try:
                warm_explore_cache.delay(dataset_id)
            except Exception:
                logger.warning(
                    "could not warm the explore cache of dataset %s", dataset_id, exc_info=True
                )

    transaction.on_commit(send)
