from __future__ import annotations

from django import forms

from servers.firewall import Rule, parse_rules


class FirewallForm(forms.Form):
    rules = forms.CharField(
        label="Allowed ports", max_length=8000,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="One a line: 443/tcp, 53/udp, 60000:61000/udp, or 5432/tcp from 10.0.0.0/8 "
                  "(one network only). Everything else from outside is dropped, published "
                  "Docker ports included.",
    )  # fmt: skip

    def clean_rules(self) -> list[Rule]:
        rules = parse_rules(self.cleaned_data["rules"])
        if not rules:
            raise forms.ValidationError("Allow at least the SSH port.")
        return rules
