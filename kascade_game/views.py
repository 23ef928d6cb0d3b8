from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def intro(request):
    return render(request, "kascade_game/intro.html", {"section": "intro"})


@require_GET
def field_guide(request):
    return render(request, "kascade_game/field_guide.html", {"section": "play"})


def placeholder(section: str, title: str, blurb: str):
    """A page that a later feature fills; it already has its place in the nav."""

    @require_GET
    def view(request):
        return render(
            request,
            "kascade_game/placeholder.html",
            {"section": section, "title": title, "blurb": blurb},
        )

    view.__name__ = f"{section}_placeholder"
    return view
