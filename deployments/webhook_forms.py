from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from deployments.validators import SHA_RE, validate_git_ref
from deployments.webhook_signatures import Provider

TAG_PATTERN_RE = re.compile(r"^[A-Za-z0-9_.*?\[\]/-]{1,100}$")


def validate_tag_pattern(value: str) -> None:
    if not TAG_PATTERN_RE.fullmatch(value) or value.startswith("-"):
        raise ValidationError(
            "Enter a tag pattern of letters, digits, . _ - / and the wildcards * ? [ ], such as v*."
        )


class WebhookForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices, initial=Provider.GITHUB)
    branch = forms.CharField(
        max_length=200,
        required=False,
        validators=[validate_git_ref],
        help_text="A push to this branch deploys its commit. Empty: no branch deploys.",
    )
    tag_pattern = forms.CharField(
        max_length=100,
        required=False,
        validators=[validate_tag_pattern],
        label="Tags that deploy",
        help_text="A pushed tag matching this pattern (e.g. v*) deploys. Empty: no tag deploys.",
    )

    def clean_branch(self) -> str:
        branch: str = self.cleaned_data["branch"].strip()
        if branch and SHA_RE.fullmatch(branch):
            raise ValidationError("Enter a branch name, not a commit.")
        return branch

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not data.get("branch") and not data.get("tag_pattern"):
            raise ValidationError("Give a branch, a tag pattern, or both: else no push deploys.")
        return data
