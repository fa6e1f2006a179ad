from __future__ import annotations

from typing import Any, Generic, NoReturn, TypeVar

T = TypeVar("T")

REDACTED = "[REDACTED]"


class Sensitive(Generic[T]):
    """A secret value that prints, formats, logs and pickles as [REDACTED].

    Code that needs the value calls `reveal()`, which makes every use of a secret greppable.
    """

    __slots__ = ("_value",)

    def __init__(self, value: T) -> None:
        self._value = value

    def reveal(self) -> T:
        return self._value

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Sensitive({REDACTED})"

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sensitive) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("Sensitive values are never serialized; pass a primary key instead.")

    def __deepcopy__(self, memo: dict[int, Any]) -> Sensitive[T]:
        return Sensitive(self._value)
