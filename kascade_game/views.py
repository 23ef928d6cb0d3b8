from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def intro(request):
    return render(request, "kascade_game/intro.html", {"section": "intro"})


@require_GET
def field_guide(request):
    return render(request, "kascade_game/field_guide.html", {"section": "play"})
