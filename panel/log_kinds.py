"""The kinds of job log lines: a closed set, shared by the log, the executor and the pages."""

from __future__ import annotations

from django.db import models


class LogKind(models.TextChoices):
    INFO = "info", "Info"
    COMMAND = "cmd", "Command"
    OUTPUT = "out", "Output"
    ERROR = "err", "Error"
