"""Datasets of showers, the forests' precomputed answers, and their batches.

A shower row carries the KCDC columns under physics names (see
``classify.columns``); the database refuses values outside the physical
ranges, so a bad import cannot slip past the validation in Python.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .columns import KCDC_COLUMNS

MASS_GROUP_CHOICES = [
    ("p", _("proton")),
    ("He", _("helium")),
    ("C", _("carbon/oxygen")),
    ("Si", _("silicon")),
    ("Fe", _("iron")),
]
HADRONIC_MODEL_CHOICES = [
    ("qgsjet-ii-04", "QGSJet-II.04"),
    ("epos-lhc", "EPOS-LHC"),
    ("sibyll-2.3c", "Sibyll 2.3c"),
]


class Dataset(models.Model):
    class Source(models.TextChoices):
        SIMULATED = "simulated", _("simulated")
        IMPORTED = "imported", _("imported (KCDC)")

    class Purpose(models.TextChoices):
        TRAINING = "training", _("forest training set")
        DECK = "deck", _("game deck")
        EXPLORE = "explore", _("explore only")

    name = models.CharField(_("name"), max_length=100, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=Purpose.choices, default=Purpose.EXPLORE
    )
    hadronic_model = models.CharField(
        _("hadronic model"),
        max_length=32,
        choices=HADRONIC_MODEL_CHOICES,
        blank=True,
        default="",
        help_text=_("The model the showers were simulated with, when known."),
    )
    # Stored in English; shown to visitors through classify.descriptions.describe().
    description = models.TextField(_("description"), blank=True, default="")
    seed = models.BigIntegerField(_("seed"), null=True, blank=True)
    labelled = models.BooleanField(_("true mass groups known"), default=False)
    shower_count = models.PositiveIntegerField(_("number of showers"), default=0)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)

    class Meta:
        ordering = ["source", "name"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

    def __str__(self) -> str:
        return self.name


# The true mass groups by mass (p, He, C, Si, Fe), unlabelled last: how the
# Explore table sorts the group column, and the expression its index holds.
MASS_ORDER = Case(
    *(
        When(mass_group=group, then=Value(i))
        for i, (group, _label) in enumerate(MASS_GROUP_CHOICES)
    ),
    default=Value(len(MASS_GROUP_CHOICES)),
    output_field=IntegerField(),
)


def _sort_indexes() -> list[models.Index]:
    """One index per sortable column of the Explore table: (dataset, column, row, id).

    A page sorted by a column is then read from the index in order (OFFSET
    walks the index instead of sorting the dataset), `row` breaks ties as the
    query does, and `id` lets PostgreSQL answer the page's id subquery from
    the index alone; each index also gives a column's min and max per dataset
    at once. Measured on 100,000 showers: see benchmarks/explore.py.
    """
    indexes = [
        models.Index(
            F("dataset"), F(column.field), F("row"), F("id"), name=f"shower_by_{column.field}"
        )
        for column in KCDC_COLUMNS
    ]
    indexes.append(
        models.Index(F("dataset"), MASS_ORDER, F("row"), F("id"), name="shower_by_mass_order")
    )
    return indexes


class Shower(models.Model):
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="showers", verbose_name=_("dataset")
    )
    row = models.PositiveIntegerField(_("row"), help_text=_("Position in the dataset, from 0."))
    lg_e = models.FloatField(
        _("energy (lgE)"), help_text=_("log10(E / eV) of the primary particle")
    )
    core_x_m = models.FloatField(_("core position X (m)"))
    core_y_m = models.FloatField(_("core position Y (m)"))
    zenith_deg = models.FloatField(_("zenith angle (°)"))
    azimuth_deg = models.FloatField(_("azimuth (°)"))
    lg_n_e = models.FloatField(_("electron number (lgNe)"))
    lg_n_mu = models.FloatField(_("muon number (lgNmu)"))
    age = models.FloatField(_("shower age"))
    mass_group = models.CharField(
        _("true mass group"), max_length=2, choices=MASS_GROUP_CHOICES, blank=True, default=""
    )
    hadronic_model = models.CharField(
        _("hadronic model"), max_length=32, choices=HADRONIC_MODEL_CHOICES, blank=True, default=""
    )

    class Meta:
        ordering = ["dataset", "row"]
        verbose_name = _("shower")
        verbose_name_plural = _("showers")
        indexes = _sort_indexes()
        constraints = [
            models.UniqueConstraint(fields=["dataset", "row"], name="shower_row_unique"),
            models.CheckConstraint(
                condition=Q(zenith_deg__gte=0) & Q(zenith_deg__lte=90), name="shower_zenith_range"
            ),
            models.CheckConstraint(
                condition=Q(azimuth_deg__gte=0) & Q(azimuth_deg__lte=360),
                name="shower_azimuth_range",
            ),
            models.CheckConstraint(
                condition=Q(lg_e__gte=10) & Q(lg_e__lte=22), name="shower_energy_range"
            ),
            models.CheckConstraint(
                condition=Q(age__gte=0) & Q(age__lte=3), name="shower_age_range"
            ),
            models.CheckConstraint(
                condition=Q(lg_n_e__gte=0)
                & Q(lg_n_e__lte=12)
                & Q(lg_n_mu__gte=0)
                & Q(lg_n_mu__lte=12),
                name="shower_sizes_range",
            ),
            models.CheckConstraint(
                condition=Q(core_x_m__gte=-1000)
                & Q(core_x_m__lte=1000)
                & Q(core_y_m__gte=-1000)
                & Q(core_y_m__lte=1000),
                name="shower_core_range",
            ),
            models.CheckConstraint(
                condition=Q(mass_group__in=["", "p", "He", "C", "Si", "Fe"]),
                name="shower_mass_group_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} #{self.row}"


class ForestVersion(models.Model):
    """A trained forest known to the database; `active` is the one the game reveals.

    A new version becomes active only after its predictions are complete for
    every shower, so the game never deals a card the new forest has not answered.
    """

    hadronic_model = models.CharField(
        _("hadronic model"), max_length=32, choices=HADRONIC_MODEL_CHOICES
    )
    version = models.CharField(_("version"), max_length=64)
    accuracy = models.FloatField(_("accuracy"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=False)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)
    activated = models.DateTimeField(
        pgettext_lazy("point in time", "activated"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("forest version")
        verbose_name_plural = _("forest versions")
        constraints = [
            models.UniqueConstraint(
                fields=["hadronic_model", "version"], name="forest_version_unique"
            ),
            models.UniqueConstraint(
                fields=["hadronic_model"],
                condition=Q(active=True),
                name="one_active_forest_per_model",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hadronic_model}@{self.version}"


class Prediction(models.Model):
    # No index of its own on shower: the primary key (shower, model, version)
    # leads with it and serves every lookup by shower. Each index costs the
    # precomputation a write per row (benchmarks/run.py, precompute profile).
    # No foreign-key constraint in the database either: PostgreSQL checks one
    # row by row with a trigger that locks the shower, two thirds of a chunk's
    # write (20,000 rows: 182–242 ms with it, 58–95 ms without). A prediction
    # still cannot outlive its shower: showers are deleted only with their
    # dataset, whose row the deletion locks first (lock_dataset_before_delete),
    # and a chunk writes under FOR KEY SHARE on that row (services.hold_dataset);
    # the ORM's cascade deletes the predictions with the showers.
    shower = models.ForeignKey(
        Shower,
        on_delete=models.CASCADE,
        related_name="predictions",
        db_index=False,
        db_constraint=False,
        verbose_name=_("shower"),
    )
    hadronic_model = models.CharField(
        _("hadronic model"), max_length=32, choices=HADRONIC_MODEL_CHOICES
    )
    model_version = models.CharField(_("forest version"), max_length=64)
    predicted_group = models.CharField(
        _("predicted group"), max_length=2, choices=MASS_GROUP_CHOICES
    )
    prob_p = models.FloatField(_("probability of p"))
    prob_he = models.FloatField(_("probability of He"))
    prob_c = models.FloatField(_("probability of C"))
    prob_si = models.FloatField(_("probability of Si"))
    prob_fe = models.FloatField(_("probability of Fe"))
    # One row per (shower, model, version), and that is the key: no surrogate
    # id, whose sequence and second index cost a third of a bulk write (300,000
    # rows: 850–935 ms with it, 580–610 ms without; migration classify 0007).
    pk = models.CompositePrimaryKey("shower", "hadronic_model", "model_version")

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self) -> str:
        return f"{self.shower_id}: {self.hadronic_model}@{self.model_version} says {self.predicted_group}"

    @property
    def probabilities(self) -> dict[str, float]:
        return {
            "p": self.prob_p,
            "He": self.prob_he,
            "C": self.prob_c,
            "Si": self.prob_si,
            "Fe": self.prob_fe,
        }


# The PrecomputeBatch fields that count each predicted group.
PREDICTED_COUNT_FIELDS: dict[str, str] = {
    group: f"predicted_{group.lower()}" for group, _label in MASS_GROUP_CHOICES
}


class PrecomputeBatch(models.Model):
    """Progress of one precomputation (a dataset × forest version), readable by the web."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("batch status", "pending")
        RUNNING = "running", pgettext_lazy("batch status", "running")
        DONE = "done", pgettext_lazy("batch status", "done")
        FAILED = "failed", pgettext_lazy("batch status", "failed")

    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="batches", verbose_name=_("dataset")
    )
    hadronic_model = models.CharField(
        _("hadronic model"), max_length=32, choices=HADRONIC_MODEL_CHOICES
    )
    model_version = models.CharField(_("forest version"), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("showers to answer"), default=0)
    done = models.PositiveIntegerField(_("showers answered"), default=0)
    chunks_total = models.PositiveIntegerField(_("chunks in all"), default=0)
    chunks_done = models.PositiveIntegerField(_("chunks done"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    # How many of the batch's showers the forest put in each group, counted with
    # the rows (same transaction), so the predicted composition of a dataset is
    # read here rather than aggregated over its predictions.
    predicted_p = models.PositiveIntegerField(_("predicted as p"), default=0)
    predicted_he = models.PositiveIntegerField(_("predicted as He"), default=0)
    predicted_c = models.PositiveIntegerField(_("predicted as C"), default=0)
    predicted_si = models.PositiveIntegerField(_("predicted as Si"), default=0)
    predicted_fe = models.PositiveIntegerField(_("predicted as Fe"), default=0)
    started = models.DateTimeField(pgettext_lazy("point in time", "started"), auto_now_add=True)
    finished = models.DateTimeField(
        pgettext_lazy("point in time", "finished"), null=True, blank=True
    )

    class Meta:
        ordering = ["-started"]
        verbose_name = _("prediction batch")
        verbose_name_plural = _("prediction batches")
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "hadronic_model", "model_version"], name="batch_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} × {self.hadronic_model}@{self.model_version}: {self.status}"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    @property
    def predicted_counts(self) -> dict[str, int]:
        """{group: showers of the batch the forest put there}."""
        return {group: getattr(self, field) for group, field in PREDICTED_COUNT_FIELDS.items()}
