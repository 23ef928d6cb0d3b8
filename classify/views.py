"""Staff pages of the classify app: the progress of the batch predictions."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .models import PrecomputeBatch
from .selectors import active_versions


def batch_rows(limit: int = 50) -> list[dict]:
    now = timezone.now()
    rows = []
    for batch in PrecomputeBatch.objects.select_related("dataset")[:limit]:
        elapsed = ((batch.finished or now) - batch.started).total_seconds()
        rows.append(
            {
                "batch": batch,
                "percent": round(100 * batch.fraction, 1),
                "rate": batch.done / elapsed if elapsed > 0 else 0.0,
                "elapsed_s": elapsed,
            }
        )
    return rows


@staff_member_required
@require_GET
def prediction_progress(request):
    context = {
        "rows": batch_rows(),
        "active": active_versions(),
        "running": PrecomputeBatch.objects.exclude(status=PrecomputeBatch.Status.DONE).exists(),
    }
    template = (
        "classify/_progress_table.html" if request.htmx else "classify/prediction_progress.html"
    )
    return render(request, template, context)
