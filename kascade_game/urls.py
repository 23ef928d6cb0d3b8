from django.contrib import admin
from django.urls import include, path

from classify import views as classify_views
from leaderboard import views as leaderboard_views
from rooms.urls import booth_patterns, room_patterns

from . import health, play, views

urlpatterns = [
    path("", views.intro, name="intro"),
    path("play/", play.play_start, name="play"),
    path("play/new/", play.play_new, name="play-new"),
    path("play/guide/", views.field_guide, name="field-guide"),
    path("play/r/<str:public_id>/", play.play_round, name="play-round"),
    path("play/r/<str:public_id>/card/<int:position>/", play.play_card, name="play-card"),
    path("play/r/<str:public_id>/card/<int:position>/guess/", play.play_guess, name="play-guess"),
    path("play/r/<str:public_id>/summary/", play.play_summary, name="play-summary"),
    path("explore/", include("kascade_game.explore_urls")),
    path("leaderboard/", leaderboard_views.leaderboard, name="leaderboard"),
    path("leaderboard/stats/", leaderboard_views.human_vs_machine, name="human-vs-machine"),
    path("players/<str:slug>/", leaderboard_views.public_profile, name="player-profile"),
    path("accounts/login/", leaderboard_views.RateLimitedLoginView.as_view(), name="login"),
    path("accounts/signup/", leaderboard_views.signup, name="signup"),
    path("accounts/profile/", leaderboard_views.my_profile, name="profile"),
    path("rooms/", include(room_patterns)),
    path("booth/", include(booth_patterns)),
    path("staff/predictions/", classify_views.prediction_progress, name="prediction-progress"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]

handler400 = "kascade_game.views.bad_request"
handler403 = "kascade_game.views.permission_denied"
handler404 = "kascade_game.views.page_not_found"
handler500 = "kascade_game.views.server_error"
