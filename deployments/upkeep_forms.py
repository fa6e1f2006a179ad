from __future__ import annotations

from django import forms

from panel.forms import schedule_field


class UpgradeWindowForm(forms.Form):
    schedule = schedule_field("0 4 * * 2", "Tuesdays at 04:00", "no window")
    scope = forms.ChoiceField(
        choices=[("security", "Security updates only"), ("all", "All updates")],
        initial="security", label="Which updates",
    )  # fmt: skip
    reboot = forms.ChoiceField(
        choices=[("no", "Never reboot"), ("if-required", "Reboot if required")], initial="no",
        help_text="A reboot waits for the next window while alerts are open on the server.",
    )  # fmt: skip
