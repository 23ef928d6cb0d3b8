from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Player
from .nicknames import NicknameRejected, check_nickname, nickname_key


def clean_unique_nickname(raw: str, *, exclude_player_id: int | None = None) -> str:
    try:
        nickname = check_nickname(raw)
    except NicknameRejected as rejection:
        raise forms.ValidationError(str(rejection)) from None
    taken = Player.objects.filter(nickname_key=nickname_key(nickname))
    if exclude_player_id:
        taken = taken.exclude(pk=exclude_player_id)
    if taken.exists():
        raise forms.ValidationError(_("That nickname is taken; add a number or choose another."))
    return nickname


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        required=False,
        label=_("E-mail"),
        help_text=_("Optional; only for resetting your password."),
    )
    nickname = forms.CharField(
        max_length=40,
        label=_("Nickname"),
        help_text=_("Shown on the boards. Letters, digits, spaces and - _ . '"),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, guest: Player | None = None, **kwargs):
        self.guest = guest
        super().__init__(*args, **kwargs)
        if guest and not self.is_bound:
            self.fields["nickname"].initial = guest.nickname

    def clean_nickname(self):
        return clean_unique_nickname(
            self.cleaned_data["nickname"], exclude_player_id=self.guest.pk if self.guest else None
        )


class NicknameForm(forms.Form):
    """A guest's nickname; left empty, the guest keeps the generated one."""

    nickname = forms.CharField(max_length=40, label=_("Your nickname"), required=False)

    def __init__(self, *args, player: Player | None = None, **kwargs):
        self.player = player
        super().__init__(*args, **kwargs)

    def clean_nickname(self):
        if not self.cleaned_data["nickname"].strip():
            return ""
        return clean_unique_nickname(
            self.cleaned_data["nickname"], exclude_player_id=self.player.pk if self.player else None
        )
