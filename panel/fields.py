"""A model field whose value is encrypted at rest and bound to its row (see panel.crypto)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.core import checks
from django.db import models

from panel.crypto import key_ring
from panel.sensitive import Sensitive


class Ciphertext(str):
    """A stored value not yet decrypted; the descriptor decrypts it on first access."""

    __slots__ = ()


class _EncryptedDescriptor:
    def __init__(self, field: EncryptedTextField) -> None:
        self.field = field

    def __get__(self, instance: models.Model | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Ciphertext):
            plaintext = (
                key_ring().decrypt(value, self.field.associated_data(instance)) if value else ""
            )
            value = Sensitive(plaintext)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        if isinstance(value, str) and not isinstance(value, Ciphertext):
            value = Sensitive(value)
        instance.__dict__[self.field.attname] = value


def is_set(instance: models.Model, name: str) -> bool:
    """Whether an encrypted field holds a value, without decrypting it."""
    value = instance.__dict__.get(name)
    if isinstance(value, Ciphertext):
        return bool(value)
    return bool(value.reveal() if isinstance(value, Sensitive) else value)


if TYPE_CHECKING:
    _TextField = models.TextField[str | Sensitive[str], Sensitive[str]]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
    """Holds a `Sensitive[str]` in Python and AES-GCM ciphertext in the database.

    The model needs a UUID primary key set before saving and a `team` foreign key: both are
    part of the associated data, so a ciphertext copied to another row or team fails to open.
    """

    def contribute_to_class(self, cls: type[models.Model], name: str, **kwargs: Any) -> None:  # type: ignore[override]
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.attname, _EncryptedDescriptor(self))

    def associated_data(self, instance: models.Model) -> str:
        opts = instance._meta
        team_id = getattr(instance, "team_id", None)
        return f"{opts.app_label}.{opts.model_name}.{self.name}|{instance.pk}|{team_id}"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else Ciphertext(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        if isinstance(value, Sensitive):
            value = value.reveal()
        if value == "":
            return ""  # nothing to hide; and `is_set` can tell without decrypting
        return key_ring().encrypt(str(value), self.associated_data(model_instance))

    def get_prep_value(self, value: Any) -> Any:
        # Only ciphertext from pre_save reaches the database; refuse to filter on secrets.
        if isinstance(value, Sensitive):
            raise TypeError("Encrypted fields cannot be used in lookups.")
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return str(getattr(obj, self.attname))

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        model = self.model
        pk = model._meta.pk
        has_uuid_pk = isinstance(pk, models.UUIDField) and pk.default is uuid.uuid4
        has_team = any(f.name == "team" for f in model._meta.get_fields())
        if not (has_uuid_pk and has_team):
            errors.append(
                checks.Error(
                    "A model with an encrypted field needs `id = UUIDField(primary_key=True, "
                    "default=uuid.uuid4)` and a `team` foreign key.",
                    obj=self,
                    id="panel.E001",
                )
            )
        return errors
