"""The URLconf of the Django floor (benchmarks/floor.py); the game never uses it."""

from django.urls import path

from .floor import django_floor_view

urlpatterns = [
    path(
        "bench-floor-django/<str:public_id>/<int:position>/",
        django_floor_view,
        name="bench-floor-django",
    ),
]
