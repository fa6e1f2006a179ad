"""Two-factor sign-in: a TOTP app's codes, and ten single-use recovery codes; owners may
require it of their team. Each change is audited in every team of the person."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from panel import audit
from panel.audit import Actor
from panel.models import AuditAction, Team
from panel.permissions import Action, can

RECOVERY_CODES = 10
APP_DEVICE, RECOVERY_DEVICE = "app", "recovery"


class CodeRefused(Exception):
    """The code was not right; nothing changed."""


def device_to_confirm(user: User) -> TOTPDevice:
    """The app's key being set up: the same one until it is confirmed, so a reload shows the
    QR code the person may have scanned already."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=APP_DEVICE, confirmed=False)


def confirm(actor: Actor, user: User, device: TOTPDevice, code: str) -> list[str]:
    """Turn it on once the app shows a right code; the recovery codes, shown once."""
    if device.user_id != user.pk or not device.verify_token(code.strip().replace(" ", "")):
        raise CodeRefused("That code is not right: check the app's clock, and type the newest.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record_for_person(actor, user, AuditAction.TWO_FACTOR_ON)
    return codes


def new_recovery_codes(actor: Actor, user: User) -> list[str]:
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record_for_person(actor, user, AuditAction.RECOVERY_CODES)
    return codes


def recovery_codes_left(user: User) -> int:
    left: int = StaticToken.objects.filter(device__user=user, device__name=RECOVERY_DEVICE).count()
    return left


def turn_off(actor: Actor, user: User) -> None:
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=None):
            device.delete()
        audit.record_for_person(actor, user, AuditAction.TWO_FACTOR_OFF)


def is_on(user: User) -> bool:
    on: bool = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return on


def required_of(user: User) -> bool:
    """Whether a team of the person requires two-factor sign-in."""
    return Team.objects.filter(memberships__user=user, require_two_factor=True).exists()


def standing(user: User) -> tuple[bool, bool]:
    """(is on, is required of them), in one query: asked on every request."""
    on = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    required = Team.objects.filter(memberships__user=OuterRef("pk"), require_two_factor=True)
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(on=Exists(on), required=Exists(required))
        .values_list("on", "required")
        .first()
    )
    return (bool(row[0]), bool(row[1])) if row else (False, False)


def require_for_team(actor: Actor, team: Team, required: bool) -> None:
    if actor.user is None or not can(actor.user, team, Action.MANAGE_OWNERS):
        raise PermissionDenied("Only owners decide whether the team requires two-factor sign-in.")
    with transaction.atomic():
        before = audit.values_of(team, ["require_two_factor"])
        if (
            not Team.objects.filter(pk=team.pk)
            .exclude(require_two_factor=required)
            .update(require_two_factor=required)
        ):
            return
        audit.record(actor, AuditAction.TEAM_TWO_FACTOR, team=team, target=team,
                     details={"required": required,
                              **audit.diff(before, {"require_two_factor": required})})  # fmt: skip


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE)
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes
