from django.contrib import admin
from django.urls import include, path

from . import health, views

urlpatterns = [
    path("", views.intro, name="intro"),
    path(
        "play/",
        views.placeholder("play", "Play", "Shower cards and the five-way guess arrive here soon."),
        name="play",
    ),
    path(
        "explore/",
        views.placeholder(
            "explore", "Explore", "Browse the datasets, histograms and compositions."
        ),
        name="explore",
    ),
    path(
        "leaderboard/",
        views.placeholder("leaderboard", "Leaderboard", "All-time, weekly and daily boards."),
        name="leaderboard",
    ),
    path(
        "rooms/",
        views.placeholder("rooms", "Rooms", "School competitions with a join code."),
        name="rooms",
    ),
    path(
        "booth/",
        views.placeholder("booth", "Booth", "Kiosk mode for festivals."),
        name="booth",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
