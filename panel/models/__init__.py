from __future__ import annotations

from panel.log_kinds import LogKind
from panel.models.audit import AuditAction, AuditChainHead, AuditEvent
from panel.models.jobs import Job, JobKind, JobLogLine, JobStatus, Lock
from panel.models.secrets import Secret
from panel.models.teams import Invitation, LoginFailure, Membership, Role, Team
from panel.models.tokens import ApiToken, IdempotentRequest, TokenScope

__all__ = [
    "ApiToken",
    "AuditAction",
    "AuditChainHead",
    "AuditEvent",
    "IdempotentRequest",
    "Invitation",
    "Job",
    "JobKind",
    "JobLogLine",
    "JobStatus",
    "Lock",
    "LogKind",
    "LoginFailure",
    "Membership",
    "Role",
    "Secret",
    "Team",
    "TokenScope",
]
