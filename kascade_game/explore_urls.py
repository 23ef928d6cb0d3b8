"""URLs of the Explore section, included under /explore/."""

from django.urls import path

from . import explore

urlpatterns = [
    path("", explore.explore, name="explore"),
    path("upload/", explore.upload, name="explore-upload"),
    path("<int:dataset_id>/table/", explore.table, name="explore-table"),
    path("<int:dataset_id>/histogram.json", explore.histogram, name="explore-histogram"),
    path(
        "<int:dataset_id>/histogram2d/<slug:which>.json",
        explore.histogram_2d,
        name="explore-histogram-2d",
    ),
    path("<int:dataset_id>/composition/", explore.composition, name="explore-composition"),
]
