from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    verbose_name = _("Players and leaderboards")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .views import claim_on_login

        user_logged_in.connect(claim_on_login, dispatch_uid="claim-guest-on-login")
