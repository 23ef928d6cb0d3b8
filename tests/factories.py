"""Building real game data in the test database: simulated showers, real forests, real predictions."""

from __future__ import annotations

import pytest

from classify.datasets import DatasetSpec, create_simulated_dataset
from classify.forests import ForestMissing, read_card
from classify.hadronic_models import HADRONIC_MODELS
from classify.models import Dataset
from classify.services import activate_if_complete, register_forest_version, start_precompute

TEST_DECK = DatasetSpec(
    name="test-deck",
    purpose=Dataset.Purpose.DECK,
    hadronic_models=tuple(HADRONIC_MODELS),
    showers=300,
    seed=777,
    description="a small deck for the tests",
)


def require_forests() -> None:
    for key in HADRONIC_MODELS:
        try:
            read_card(key)
        except ForestMissing:
            pytest.fail(f"no trained forest for {key}: run `make setup` (or `make test`) first")


def build_game_data(spec: DatasetSpec = TEST_DECK) -> Dataset:
    """A labelled deck, predicted eagerly by every forest on disk, versions active, deck built."""
    require_forests()
    existing = Dataset.objects.filter(name=spec.name).first()
    if existing is not None:
        return existing
    dataset = create_simulated_dataset(spec)
    for key in HADRONIC_MODELS:
        card = read_card(key)
        register_forest_version(key, version=card["version"], accuracy=card["accuracy"])
        start_precompute(dataset_id=dataset.id, hadronic_model=key, eager=True, chunk_size=128)
        activate_if_complete(key, card["version"])
    from kascade_game.decks import rebuild_deck

    rebuild_deck()
    return dataset


def round_started_by(response):
    """The round a start (`/play/new/`, `/booth/start/`) redirected to: its own URL or its first card."""
    from django.urls import resolve

    from kascade_game.models import Round

    assert response.status_code == 302, response.content.decode()[:1500]
    public_id = resolve(response["Location"].split("?")[0]).kwargs["public_id"]
    return Round.objects.get(public_id=public_id)
