from django.conf import settings

NAVIGATION = (
    ("intro", "/", "Intro"),
    ("play", "/play/", "Play"),
    ("explore", "/explore/", "Explore"),
    ("leaderboard", "/leaderboard/", "Leaderboard"),
    ("rooms", "/rooms/", "Rooms"),
    ("booth", "/booth/", "Booth"),
)


def site(request):
    return {"navigation": NAVIGATION, "production": settings.PRODUCTION}
