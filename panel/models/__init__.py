from __future__ import annotations

from panel.models.audit import AuditChainHead, AuditEvent
from panel.models.jobs import Job, JobLogLine, JobStatus, Lock
from panel.models.secrets import Secret
from panel.models.teams import LoginFailure, Membership, Role, Team

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "Job",
    "JobLogLine",
    "JobStatus",
    "Lock",
    "LoginFailure",
    "Membership",
    "Role",
    "Secret",
    "Team",
]
