"""The composition CLI of the contract, and the model cards the forests are saved with."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from classify.forests import (
    FEATURES,
    ForestMismatch,
    load_forest,
    read_card,
    training_data_hash,
)
from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import LN_A, MASS_GROUPS
from classify.simulation import simulate_showers
from tests.factories import require_forests


def predict(*args: str) -> str:
    out = io.StringIO()
    call_command("predict_composition", *args, stdout=out)
    return out.getvalue()


def test_predict_composition_json_has_the_contract_shape_for_the_kcdc_sample():
    require_forests()
    result = json.loads(predict(str(settings.KCDC_SAMPLE), "--format", "json"))
    assert result["rows"] == 2940
    assert list(result["models"]) == ["qgsjet-ii-04", "epos-lhc", "sibyll-2.3c"]
    for composition in result["models"].values():
        assert set(composition["counts"]) == set(MASS_GROUPS) == set(composition["fractions"])
        assert sum(composition["counts"].values()) == 2940
        assert sum(composition["fractions"].values()) == pytest.approx(1.0, abs=1e-5)
        expected = sum(composition["fractions"][g] * LN_A[g] for g in MASS_GROUPS)
        assert composition["mean_lnA"] == pytest.approx(expected, abs=1e-5)
        assert 0 <= composition["mean_lnA"] <= math.log(56)


def test_a_labelled_file_also_reports_the_true_composition_and_a_table(tmp_path):
    require_forests()
    lines = (settings.KCDC_SAMPLE.read_text().splitlines())[:101]
    labels = ["p", "He", "C", "Si", "Fe"] * 20
    path = tmp_path / "labelled.csv"
    path.write_text(
        "\n".join(
            [lines[0] + ",truth"]
            + [f"{line},{g}" for line, g in zip(lines[1:], labels, strict=True)]
        )
        + "\n"
    )
    result = json.loads(predict(str(path), "--format", "json", "--label-column", "truth"))
    assert result["rows"] == 100
    assert result["truth"]["counts"] == {g: 20 for g in MASS_GROUPS}
    table = predict(str(path), "--label-column", "truth")
    for key in [*HADRONIC_MODELS, "truth", "<lnA>"]:
        assert key in table


def test_predict_composition_refuses_a_bad_file_with_the_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("lgE,X,Y,Ze,Az,lgNe,lgNmu\n14,0,0,10,10,3,3\n")
    with pytest.raises(CommandError, match="missing column\\(s\\) Age"):
        predict(str(path), "--format", "json")


def test_every_model_card_holds_metrics_versions_and_the_data_hash():
    require_forests()
    for key in HADRONIC_MODELS:
        card = read_card(key)
        assert card["features"] == list(FEATURES)
        for field in (
            "sklearn_version",
            "cuts",
            "training_data_hash",
            "seed",
            "accuracy",
            "per_group",
            "confusion_matrix",
            "feature_importances",
            "reference_accuracy",
        ):
            assert field in card, (key, field)
        matrix = card["confusion_matrix"]["matrix"]
        assert sum(map(sum, matrix)) == card["n_test"]
        assert sum(card["feature_importances"].values()) == pytest.approx(1.0, abs=1e-3)
        assert card["model_file_bytes"] <= 30 * 1024 * 1024
        # A forest within 3 points of the stronger reference on the same test set.
        assert card["accuracy"] >= card["reference_accuracy"] - 0.03, key


def test_the_training_data_hash_ignores_last_bits_but_not_the_data():
    showers = simulate_showers(600, hadronic_model="epos-lhc", seed=8)
    reference = training_data_hash(showers)
    noisy = showers.copy()
    for column in FEATURES:  # as another CPU's maths library might give them
        noisy[column] = np.nextafter(noisy[column].to_numpy(), -np.inf)
    assert training_data_hash(noisy) == reference
    changed = showers.copy()
    changed.loc[7, "lgNmu"] += 1e-5  # the last decimal KCDC keeps
    assert training_data_hash(changed) != reference
    relabelled = showers.copy()
    relabelled.loc[7, "mass_group"] = "Fe" if showers.loc[7, "mass_group"] != "Fe" else "p"
    assert training_data_hash(relabelled) != reference


def test_loading_a_forest_made_by_another_scikit_learn_is_refused(tmp_path):
    require_forests()
    import joblib

    from classify.forests import forest_paths

    source_model, source_card = forest_paths("epos-lhc")
    payload = joblib.load(source_model)
    payload["sklearn_version"] = "0.24.2"
    joblib.dump(payload, tmp_path / "epos-lhc.joblib")
    (tmp_path / "epos-lhc.json").write_text(source_card.read_text())
    with pytest.raises(ForestMismatch, match="trained with scikit-learn 0.24.2"):
        load_forest("epos-lhc", directory=tmp_path)
    payload["sklearn_version"] = __import__("sklearn").__version__
    payload["features"] = ["lgE", "lgNe"]
    joblib.dump(payload, tmp_path / "epos-lhc.joblib")
    with pytest.raises(ForestMismatch, match="expects features"):
        load_forest("epos-lhc", directory=tmp_path)


def test_forests_are_saved_as_plain_pickles_and_older_joblib_files_still_load(tmp_path):
    """Workers load each forest once per process; the plain pickle loads several times
    faster than joblib's format, and files written by earlier versions still load."""
    import pickle

    import joblib
    import numpy as np

    from classify.forests import forest_paths, load_forest, save_forest
    from tests.factories import require_forests

    require_forests()
    forest = load_forest("sibyll-2.3c")
    save_forest(forest, tmp_path)
    model_path, card_path = forest_paths("sibyll-2.3c", tmp_path)
    assert pickle.loads(model_path.read_bytes())["version"] == forest.version
    features = np.random.default_rng(7).normal(size=(50, 8)) + np.linspace(0, 16, 8)
    expected = forest.estimator.predict_proba(features)
    payload = pickle.loads(model_path.read_bytes())
    for compress in (0, 3):
        joblib.dump(payload, model_path, compress=compress)
        again = load_forest("sibyll-2.3c", tmp_path)
        assert again.version == forest.version
        assert np.allclose(again.estimator.predict_proba(features), expected)


def test_a_retraining_that_reproduces_a_model_card_leaves_the_committed_card_as_it_is(tmp_path):
    """`make setup` trains the forests of a fresh clone again; only the seconds and
    the file's size differ between machines, and the committed card stays."""
    import copy
    import json

    from classify.forests import forest_paths, load_forest, save_forest
    from tests.factories import require_forests

    require_forests()
    forest = load_forest("epos-lhc")
    _, card_path = forest_paths("epos-lhc", tmp_path)
    committed = copy.deepcopy(forest.card)
    committed["training_seconds"] = 123.45
    committed["model_file_bytes"] = 1
    committed["reference"]["training_seconds"] = 678.9
    card_path.write_text(json.dumps(committed, indent=2) + "\n")
    written = card_path.read_bytes()

    save_forest(forest, tmp_path)
    assert card_path.read_bytes() == written
    # The forest in memory knows its own file.
    assert forest.card["model_file_bytes"] == forest_paths("epos-lhc", tmp_path)[0].stat().st_size

    forest.card = {**forest.card, "accuracy": forest.card["accuracy"] + 0.01}
    save_forest(forest, tmp_path)
    rewritten = json.loads(card_path.read_text())
    assert rewritten["accuracy"] == forest.card["accuracy"]
    assert rewritten["model_file_bytes"] == forest.card["model_file_bytes"]
    assert rewritten["training_seconds"] == forest.card["training_seconds"]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_forests_probabilities_are_scikit_learns_in_the_games_class_order(threads):
    """predict_features sums each thread's share of the trees itself (faster on a
    precompute chunk than scikit-learn's n_jobs); the numbers are the forest's."""
    import numpy as np

    from classify.forests import CLASSES, feature_matrix, predict_features
    from classify.simulation import simulate_showers

    require_forests()
    forest = load_forest("qgsjet-ii-04")
    features = feature_matrix(simulate_showers(3_000, hadronic_model="qgsjet-ii-04", seed=11))
    order = [list(forest.estimator.classes_).index(group) for group in CLASSES]
    expected = forest.estimator.predict_proba(features)[:, order]

    got = predict_features(forest, features, threads=threads)
    assert got.shape == (3_000, len(CLASSES))
    assert np.abs(got - expected).max() < 1e-12
    assert np.allclose(got.sum(axis=1), 1.0)
    # The shares are added in a fixed order: the same matrix, the same numbers.
    assert np.array_equal(predict_features(forest, features, threads=threads), got)


def test_predicting_from_a_matrix_of_other_features_is_refused():
    import numpy as np

    from classify.forests import predict_features

    require_forests()
    forest = load_forest("epos-lhc")
    with pytest.raises(ValueError, match="expects 8 features, got 5"):
        predict_features(forest, np.ones((4, 5)))
