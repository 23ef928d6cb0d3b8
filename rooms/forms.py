from __future__ import annotations

import re
import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from kascade_game.models import Difficulty

from .models import CODE_LENGTH

NAME_MAX = 80


def clean_room_name(raw: str) -> str:
    """NFKC, no control or invisible characters, spaces collapsed, 2–80 characters.
    (Markup in a name is harmless: templates escape it; it is kept as typed.)"""
    text = unicodedata.normalize("NFKC", raw or "")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cn", "Cs"} for ch in text):
        raise forms.ValidationError(_("The name contains invisible or control characters."))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) < 2:
        raise forms.ValidationError(_("Give the room a name of at least 2 characters."))
    if len(text) > NAME_MAX:
        raise forms.ValidationError(
            _("Room names can have at most %(max)d characters.") % {"max": NAME_MAX}
        )
    return text


class RoomForm(forms.Form):
    name = forms.CharField(
        max_length=200, label=_("Room name"), help_text=_("For example: Class 9b, physics")
    )
    size = forms.TypedChoiceField(
        label=_("Number of cards"),
        choices=[(n, n) for n in (5, 10, 15, 20)],
        coerce=int,
        initial=10,
    )
    difficulty = forms.ChoiceField(
        label=_("Difficulty"), choices=Difficulty.choices, initial=Difficulty.MEDIUM
    )
    seconds_per_card = forms.IntegerField(
        label=_("Seconds per card (optional)"),
        required=False,
        min_value=10,
        max_value=300,
        help_text=_("Leave empty for no time limit. An answer after the time earns no points."),
    )

    def clean_name(self):
        return clean_room_name(self.cleaned_data["name"])


class JoinForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label=_("Room code"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "class": "code-input",
            }
        ),
    )
    nickname = forms.CharField(
        max_length=40,
        label=_("Your nickname"),
        help_text=_("No real names needed. Shown on the class board."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def clean_code(self):
        from .services import normalise_code

        code = normalise_code(self.cleaned_data["code"])
        if len(code) != CODE_LENGTH:
            raise forms.ValidationError(
                _("A room code has %(length)d letters and digits, like K7M2XQ9P.")
                % {"length": CODE_LENGTH}
            )
        return code


class TeacherRequestForm(forms.Form):
    school = forms.CharField(max_length=120, required=False, label=_("School or group"))
    message = forms.CharField(
        max_length=1000,
        required=False,
        label=_("A note for the admins"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BoothNicknameForm(forms.Form):
    nickname = forms.CharField(
        max_length=40,
        label=_("Your nickname"),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "words",
                "spellcheck": "false",
                "class": "booth-input",
                "data-booth-input": "",
            }
        ),
    )
