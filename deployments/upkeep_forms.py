from __future__ import annotations

from django import forms

from panel.schedules import validate_schedule


class UpgradeWindowForm(forms.Form):
    schedule = forms.CharField(
        required=False, max_length=100, validators=[validate_schedule],
        help_text="Five cron fields, e.g. 0 4 * * 2 (Tuesdays at 04:00). Empty: no window.",
    )  # fmt: skip
    scope = forms.ChoiceField(
        choices=[("security", "Security updates only"), ("all", "All updates")],
        initial="security", label="Which updates",
    )  # fmt: skip
    reboot = forms.ChoiceField(
        choices=[("no", "Never reboot"), ("if-required", "Reboot if required")], initial="no",
        help_text="A reboot waits for the next window while alerts are open on the server.",
    )  # fmt: skip
