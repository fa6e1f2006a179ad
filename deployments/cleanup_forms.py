"""The options of a Docker cleanup, and the items a preview listed."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from panel.forms import schedule_field

VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
ITEM_KEY = re.compile(r"^(container|image|cache|volume):[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
MOST_ITEMS = 5000


class CleanupForm(forms.Form):
    cache_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=7, label="Build cache unused for more than (days)"
    )
    volumes = forms.CharField(
        required=False, max_length=2000, label="Volumes to remove too",
        help_text="Names, separated by spaces. Never removed otherwise; the panel's own "
        "(panel-…) and volumes a container uses are never removed.",
    )  # fmt: skip
    confirm_volumes = forms.BooleanField(
        required=False, label="I know the data in these volumes is gone for good"
    )

    def clean_volumes(self) -> list[str]:
        names = self.cleaned_data["volumes"].replace(",", " ").split()
        bad = [name for name in names if not VOLUME_NAME.match(name)]
        if bad:
            raise ValidationError(f"Not a volume name: {', '.join(bad[:3])}.")
        return sorted(set(names))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("volumes") and not data.get("confirm_volumes"):
            self.add_error("confirm_volumes", "Removing volumes needs this ticked.")
        return data


def item_keys(given: list[str]) -> list[str]:
    """The preview's items as posted back; raises ValidationError on anything else."""
    if len(given) > MOST_ITEMS or not all(ITEM_KEY.match(key) for key in given):
        raise ValidationError("The list of items to remove is not one the preview made.")
    return sorted(set(given))


class CleanupScheduleForm(forms.Form):
    schedule = schedule_field("0 4 * * 0", "Sundays at 04:00", "no schedule")
    cache_days = forms.IntegerField(
        min_value=0, max_value=3650, initial=7, label="Build cache unused for more than (days)"
    )
