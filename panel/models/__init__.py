from __future__ import annotations

from panel.models.audit import AuditChainHead, AuditEvent
from panel.models.jobs import Job, JobLogLine, JobStatus, Lock
from panel.models.secrets import Secret
from panel.models.teams import LoginFailure, Membership, Role, Team
from panel.models.tokens import ApiToken, TokenScope

__all__ = [
    "ApiToken",
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
    "TokenScope",
]
