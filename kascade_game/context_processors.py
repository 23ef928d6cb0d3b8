from django.conf import settings
from django.utils.translation import gettext_lazy as _

NAVIGATION = (
    ("intro", "/", _("Intro")),
    ("play", "/play/", _("Play")),
    ("explore", "/explore/", _("Explore")),
    ("leaderboard", "/leaderboard/", _("Leaderboard")),
    ("rooms", "/rooms/", _("Rooms")),
    ("booth", "/booth/", _("Booth")),
)


def site(request):
    return {"navigation": NAVIGATION, "production": settings.PRODUCTION}
