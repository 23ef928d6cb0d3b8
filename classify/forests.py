"""One random forest per hadronic model: training, model cards, loading, predicting.

Data in, estimator out (the scikit-learn way): `train_forest` takes a
DataFrame with the KCDC columns and a `mass_group` label and returns the
fitted forest and its model card; saving and loading are separate, and
loading refuses a file made for other features or another scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn
from django.conf import settings
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array

from .cuts import DEFAULT_CUTS, QualityCuts
from .physics import kcdc_precision

# The features of the original KASCADE outreach app (2021).
FEATURES: tuple[str, ...] = ("lgE", "X", "Y", "Ze", "Az", "lgNe", "lgNmu", "Age")
CLASSES: tuple[str, ...] = ("p", "He", "C", "Si", "Fe")

# Leaves of ≥ 25 showers regularise the forest on these noisy, overlapping
# classes and keep each file well under the 30 MB budget; considering 60 % of
# the features at each split lets the trees use the lgNe–lgNmu correlation
# (measured: +1.1 points of accuracy over "sqrt" on the EPOS-LHC training set).
FOREST_PARAMS: dict = {
    "n_estimators": 200,
    "min_samples_leaf": 25,
    "max_features": 0.6,
    "class_weight": None,
}
TEST_FRACTION = 0.25


class ForestMismatch(RuntimeError):
    """A saved forest does not fit this installation (features or scikit-learn version)."""


class ForestMissing(FileNotFoundError):
    """No trained forest on disk for this hadronic model."""


@dataclass
class TrainedForest:
    hadronic_model: str
    estimator: RandomForestClassifier
    card: dict = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.card["version"]


def training_data_hash(showers: pd.DataFrame) -> str:
    """SHA-256 of the feature matrix and labels, in row order.

    The features are hashed at KCDC's precision (physics.FEATURE_DECIMALS, float64):
    a difference in the last bits, as two CPUs' ``exp`` and ``log`` give, does not make
    another model version.
    """
    rounded = kcdc_precision({name: showers[name].to_numpy(np.float64) for name in FEATURES})
    digest = hashlib.sha256()
    digest.update(np.column_stack([rounded[name] for name in FEATURES]).tobytes())
    digest.update("\n".join(showers["mass_group"].astype(str)).encode())
    return digest.hexdigest()


def model_version(*, data_hash: str, seed: int, cuts: QualityCuts, params: dict) -> str:
    """A content-defined version: the same data, seed, cuts and code give the same version."""
    recipe = json.dumps(
        {
            "data": data_hash,
            "seed": seed,
            "cuts": cuts.as_dict(),
            "params": params,
            "sklearn": sklearn.__version__,
            "features": FEATURES,
        },
        sort_keys=True,
    )
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def feature_matrix(showers: pd.DataFrame) -> np.ndarray:
    missing = [name for name in FEATURES if name not in showers.columns]
    if missing:
        raise ValueError(f"missing feature column(s): {', '.join(missing)}")
    return showers[list(FEATURES)].to_numpy(np.float64)


def _per_group_metrics(truth: np.ndarray, predicted: np.ndarray) -> dict:
    precision, recall, _, support = precision_recall_fscore_support(
        truth, predicted, labels=list(CLASSES), zero_division=0
    )
    return {
        group: {"precision": round(float(p), 4), "recall": round(float(r), 4), "support": int(s)}
        for group, p, r, s in zip(CLASSES, precision, recall, support, strict=True)
    }


def train_forest(
    showers: pd.DataFrame,
    *,
    hadronic_model: str,
    seed: int,
    cuts: QualityCuts = DEFAULT_CUTS,
    params: dict | None = None,
    reference_showers: pd.DataFrame | None = None,
    n_jobs: int = -1,
) -> TrainedForest:
    """Train a forest on labelled showers; the card holds its test-set metrics.

    `reference_showers` (10× the data, same model) trains the stronger
    reference classifier, a HistGradientBoostingClassifier, evaluated on the
    same held-out test set so the forest's distance from the attainable limit
    is visible in `reference_accuracy`.
    """
    params = {**FOREST_PARAMS, **(params or {})}
    data_hash = training_data_hash(showers)
    selected = showers[cuts.mask(showers)]
    features = feature_matrix(selected)
    labels = selected["mass_group"].to_numpy()
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=TEST_FRACTION, random_state=seed, stratify=labels
    )
    estimator = RandomForestClassifier(random_state=seed, n_jobs=n_jobs, **params)
    started = time.perf_counter()
    estimator.fit(x_train, y_train)
    training_seconds = time.perf_counter() - started
    predicted = estimator.predict(x_test)
    order = [list(estimator.classes_).index(group) for group in CLASSES]
    card = {
        "hadronic_model": hadronic_model,
        "version": model_version(data_hash=data_hash, seed=seed, cuts=cuts, params=params),
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": params,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "features": list(FEATURES),
        "classes": list(CLASSES),
        "cuts": cuts.as_dict(),
        "seed": seed,
        "training_data_hash": data_hash,
        "n_showers": int(len(showers)),
        "n_after_cuts": int(len(selected)),
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "training_seconds": round(training_seconds, 2),
        "accuracy": round(float(accuracy_score(y_test, predicted)), 4),
        "per_group": _per_group_metrics(y_test, predicted),
        "confusion_matrix": {
            "labels": list(CLASSES),
            "rows_are": "true group",
            "matrix": confusion_matrix(y_test, predicted, labels=list(CLASSES)).tolist(),
        },
        "feature_importances": {
            name: round(float(value), 4)
            for name, value in zip(FEATURES, estimator.feature_importances_, strict=True)
        },
        "class_order_in_estimator": [list(estimator.classes_)[i] for i in order],
    }
    if reference_showers is not None:
        card["reference"] = reference_accuracy(
            reference_showers, x_test=x_test, y_test=y_test, seed=seed, cuts=cuts
        )
        card["reference_accuracy"] = card["reference"]["accuracy"]
    return TrainedForest(hadronic_model=hadronic_model, estimator=estimator, card=card)


def reference_accuracy(
    showers: pd.DataFrame, *, x_test: np.ndarray, y_test: np.ndarray, seed: int, cuts: QualityCuts
) -> dict:
    """A stronger reference on the forest's own test set: gradient boosting on 10× the data."""
    selected = showers[cuts.mask(showers)]
    reference = HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.1,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=seed,
    )
    started = time.perf_counter()
    reference.fit(feature_matrix(selected), selected["mass_group"].to_numpy())
    seconds = time.perf_counter() - started
    return {
        "estimator": "sklearn.ensemble.HistGradientBoostingClassifier",
        "n_train": int(len(selected)),
        "training_seconds": round(seconds, 2),
        "accuracy": round(float(accuracy_score(y_test, reference.predict(x_test))), 4),
    }


def models_dir() -> Path:
    return Path(settings.MODELS_DIR)


def forest_paths(hadronic_model: str, directory: Path | None = None) -> tuple[Path, Path]:
    directory = directory or models_dir()
    return directory / f"{hadronic_model}.joblib", directory / f"{hadronic_model}.json"


def save_forest(forest: TrainedForest, directory: Path | None = None) -> tuple[Path, Path]:
    model_path, card_path = forest_paths(forest.hadronic_model, directory)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "estimator": forest.estimator,
        "features": list(FEATURES),
        "classes": list(CLASSES),
        "sklearn_version": sklearn.__version__,
        "version": forest.version,
        "hadronic_model": forest.hadronic_model,
    }
    # Written beside and renamed, so a worker never loads a half-written file.
    # A plain pickle (protocol 5, uncompressed, 14 MB): each worker process
    # loads each forest once, and this loads in 8–12 ms where joblib's own
    # format (its unpickler is pure Python) took 40 ms uncompressed and 107–112
    # ms with zlib level 3 (measured on this project's forests, 200 trees).
    temporary = model_path.with_suffix(".joblib.tmp")
    with temporary.open("wb") as handle:
        pickle.dump(payload, handle, protocol=5)
    temporary.replace(model_path)
    card = {**forest.card, "model_file_bytes": model_path.stat().st_size}
    if not _reproduces(card, card_path):
        card_path.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    forest.card = card
    return model_path, card_path


# What a training measures of the machine it ran on, not of the forest: the
# seconds it took and the file's size (pickled trees differ by a few hundred
# bytes between CPUs; the versions, metrics and importances do not).
MACHINE_MEASUREMENTS = ("training_seconds", "model_file_bytes")


def _substance(card: dict) -> dict:
    card = json.loads(json.dumps(card))  # as it reads back from the file
    for measurement in MACHINE_MEASUREMENTS:
        card.pop(measurement, None)
        if isinstance(card.get("reference"), dict):
            card["reference"].pop(measurement, None)
    return card


def _reproduces(card: dict, card_path: Path) -> bool:
    """Whether the card on disk already says all this card says of the forest.

    The committed model cards record the project's training. `make setup` on a
    fresh clone trains the forests again (their files are not committed); when
    that reproduces a card in everything but the machine's measurements, the
    card is left as committed, and a newcomer's working tree stays clean.
    """
    try:
        existing = json.loads(card_path.read_text())
    except (OSError, ValueError):
        return False
    return _substance(existing) == _substance(card)


def read_card(hadronic_model: str, directory: Path | None = None) -> dict:
    _, card_path = forest_paths(hadronic_model, directory)
    if not card_path.exists():
        raise ForestMissing(f"no model card for {hadronic_model} at {card_path}")
    return json.loads(card_path.read_text())


def _read_payload(model_path: Path) -> dict:
    """The saved payload: a plain pickle (save_forest), or joblib's format (older files)."""
    data = model_path.read_bytes()
    try:
        payload = pickle.loads(data)
    except Exception:
        # joblib's files (zlib-compressed, or with its own array records) need joblib.
        payload = None
    if not isinstance(payload, dict) or not isinstance(
        payload.get("estimator"), RandomForestClassifier
    ):
        payload = joblib.load(model_path)
    return payload


def load_forest(hadronic_model: str, directory: Path | None = None) -> TrainedForest:
    model_path, _ = forest_paths(hadronic_model, directory)
    if not model_path.exists():
        raise ForestMissing(
            f"no trained forest for {hadronic_model} at {model_path}; run `manage.py train_forests`"
        )
    payload = _read_payload(model_path)
    if payload.get("sklearn_version") != sklearn.__version__:
        raise ForestMismatch(
            f"{model_path.name} was trained with scikit-learn {payload.get('sklearn_version')}, "
            f"this installation has {sklearn.__version__}; retrain with `manage.py train_forests`"
        )
    if tuple(payload.get("features", ())) != FEATURES:
        raise ForestMismatch(
            f"{model_path.name} expects features {payload.get('features')}, "
            f"this code provides {list(FEATURES)}; retrain with `manage.py train_forests`"
        )
    card = read_card(hadronic_model, directory)
    if card.get("version") != payload.get("version"):
        raise ForestMismatch(f"{model_path.name} and its model card disagree on the version")
    return TrainedForest(hadronic_model=hadronic_model, estimator=payload["estimator"], card=card)


def predict_probabilities(forest: TrainedForest, showers: pd.DataFrame) -> np.ndarray:
    """Class probabilities in CLASSES order (p, He, C, Si, Fe), one row per shower."""
    return predict_features(forest, feature_matrix(showers))


def predict_features(
    forest: TrainedForest, features: np.ndarray, *, threads: int | None = None
) -> np.ndarray:
    """The same from a matrix whose columns are FEATURES, in that order.

    A random forest's class probabilities are the mean of its trees'
    (scikit-learn's `RandomForestClassifier.predict_proba`), and that is what
    this returns, to rounding. It predicts in `threads` threads (default: every
    core this process may use), each summing its own share of the trees into
    its own array; the shares are added in a fixed order, so a matrix always
    gets the same numbers. scikit-learn's `n_jobs` threads add each tree into
    one shared array under a lock, dispatched tree by tree through joblib. On a
    precompute chunk (16,667 showers, 2 threads) that cost 15.3 ms of CPU and
    8.8 ms of wall time per 1,000 showers, against 12.6 and 6.5 ms here; on
    100,000 showers the two are equal (docs/benchmarks.md, Precompute).
    """
    estimator = forest.estimator
    # Validated once, as the forest does before its trees predict unchecked.
    matrix = check_array(features, dtype=np.float32, order="C", ensure_all_finite="allow-nan")
    if matrix.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"the forest expects {estimator.n_features_in_} features, got {matrix.shape[1]}"
        )
    trees = estimator.estimators_
    threads = max(1, min(threads or usable_cpus(), len(trees)))
    shares = [trees[start::threads] for start in range(threads)]
    # The first share in this thread, the others in a pool (which starts no thread for none).
    with ThreadPoolExecutor(max_workers=max(1, threads - 1)) as pool:
        others = [
            pool.submit(_summed_probabilities, share, matrix, estimator.n_classes_)
            for share in shares[1:]
        ]
        probabilities = _summed_probabilities(shares[0], matrix, estimator.n_classes_)
        for other in others:
            probabilities += other.result()
    probabilities /= len(trees)
    order = [list(estimator.classes_).index(group) for group in CLASSES]
    return probabilities[:, order]


def _summed_probabilities(trees, matrix: np.ndarray, n_classes: int) -> np.ndarray:
    """The sum of these trees' class probabilities (the trees release the GIL as they predict)."""
    total = np.zeros((matrix.shape[0], n_classes))
    for tree in trees:
        total += tree.predict_proba(matrix, check_input=False)
    return total


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
