from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User

from servers.validators import validate_name, validate_posix_user


class MemberKeyForm(forms.Form):
    name = forms.CharField(max_length=63, validators=[validate_name],
                           help_text="Which machine it is on, e.g. laptop.")  # fmt: skip
    public_key = forms.CharField(
        label="Public key", max_length=16_000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ssh-ed25519 AAAA… you@laptop"}),
        help_text="The content of your .pub file. Never your private key.",
    )  # fmt: skip


class GrantForm(forms.Form):
    member = forms.ModelChoiceField(queryset=User.objects.none(), to_field_name="username")
    login = forms.CharField(max_length=32, validators=[validate_posix_user],
                            help_text="The user on the server they log in as.")  # fmt: skip

    def __init__(self, *args: Any, members: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members  # type: ignore[attr-defined]
