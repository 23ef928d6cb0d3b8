"""Datasets in the database: the defaults from fixtures/datasets.json, and reading them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import transaction

from .columns import KCDC_COLUMNS
from .importing import store_showers
from .models import Dataset, Shower
from .physics import MASS_GROUPS
from .simulation import simulate_showers


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    purpose: str
    hadronic_models: tuple[str, ...]
    showers: int
    seed: int
    description: str = ""


def default_specs(path: Path | None = None) -> list[DatasetSpec]:
    path = path or Path(settings.FIXTURES_DIR) / "datasets.json"
    entries = json.loads(path.read_text())["datasets"]
    return [
        DatasetSpec(
            name=entry["name"],
            purpose=entry["purpose"],
            hadronic_models=tuple(entry["hadronic_models"]),
            showers=int(entry["showers"]),
            seed=int(entry["seed"]),
            description=entry.get("description", ""),
        )
        for entry in entries
    ]


def simulate_spec(spec: DatasetSpec) -> pd.DataFrame:
    """The showers of a spec: balanced by mass group, models mixed in equal parts."""
    per_model = spec.showers // len(spec.hadronic_models)
    frames = [
        simulate_showers(
            per_model + (1 if index < spec.showers % len(spec.hadronic_models) else 0),
            hadronic_model=model,
            seed=spec.seed * 1000 + index,
        )
        for index, model in enumerate(spec.hadronic_models)
    ]
    showers = pd.concat(frames, ignore_index=True)
    if len(spec.hadronic_models) > 1:
        # Mixed decks are shuffled (deterministically) so models interleave.
        showers = showers.sample(frac=1.0, random_state=spec.seed).reset_index(drop=True)
    return showers


def create_simulated_dataset(spec: DatasetSpec, *, replace: bool = False) -> Dataset:
    showers = simulate_spec(spec)
    with transaction.atomic():
        if replace:
            Dataset.objects.filter(name=spec.name).delete()
        dataset = Dataset.objects.create(
            name=spec.name,
            source=Dataset.Source.SIMULATED,
            purpose=spec.purpose,
            hadronic_model=spec.hadronic_models[0] if len(spec.hadronic_models) == 1 else "",
            description=spec.description,
            seed=spec.seed,
            labelled=True,
            shower_count=len(showers),
        )
        store_showers(dataset=dataset, rows=showers.to_dict("records"))
    return dataset


def ensure_default_datasets(*, stdout=None) -> list[Dataset]:
    """Create each default dataset that is missing; existing ones are left alone."""
    created = []
    for spec in default_specs():
        if Dataset.objects.filter(name=spec.name).exists():
            continue
        dataset = create_simulated_dataset(spec)
        created.append(dataset)
        if stdout:
            stdout.write(f"simulated dataset {dataset.name}: {dataset.shower_count} showers")
    return created


FRAME_FIELDS = ["id"] + [column.field for column in KCDC_COLUMNS] + ["mass_group", "hadronic_model"]
FRAME_NAMES = (
    ["shower_id"] + [column.kcdc for column in KCDC_COLUMNS] + ["mass_group", "hadronic_model"]
)


def dataset_frame(dataset: Dataset, *, row_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """The dataset's showers as a DataFrame with KCDC column names, in row order."""
    queryset = Shower.objects.filter(dataset=dataset).order_by("row")
    if row_range is not None:
        queryset = queryset.filter(row__gte=row_range[0], row__lt=row_range[1])
    rows = list(queryset.values_list(*FRAME_FIELDS))
    frame = pd.DataFrame.from_records(rows, columns=FRAME_NAMES)
    for column in KCDC_COLUMNS:
        frame[column.kcdc] = frame[column.kcdc].astype("float64")
    return frame


def training_frame(hadronic_model: str) -> pd.DataFrame:
    """The labelled training showers of one hadronic model (created if missing)."""
    dataset = Dataset.objects.filter(
        purpose=Dataset.Purpose.TRAINING, hadronic_model=hadronic_model
    ).first()
    if dataset is None:
        spec = next(
            spec
            for spec in default_specs()
            if spec.purpose == "training" and spec.hadronic_models == (hadronic_model,)
        )
        dataset = create_simulated_dataset(spec)
    frame = dataset_frame(dataset)
    if not set(frame["mass_group"]) <= set(MASS_GROUPS):
        raise ValueError(f"training dataset {dataset.name} has unlabelled showers")
    return frame
