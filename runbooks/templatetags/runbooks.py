from __future__ import annotations

from typing import Any

from django import template

from panel.models import Job
from runbooks.state import waiting_step
from runbooks.steps import WHO

register = template.Library()


@register.simple_tag
def waiting_check(job: Job) -> dict[str, Any] | None:
    """The step a run waits for a person to confirm (its index, text and who may), or None."""
    index = waiting_step(job)
    if index is None:
        return None
    step = job.params["steps"][index]
    return {"index": index, "number": index + 1, "text": step["text"], "who": WHO[step["role"]]}
