"""`UNSET`: the default of a service's optional change arguments, so "not given" differs from
"set to None/blank". `given(...)` keeps the arguments that were passed.

    def unit_update(*, actor: User, unit_id: UUID, name: str | Unset = UNSET) -> Unit:
        changes = given(name=name)

A service with many optional inputs takes one frozen dataclass whose fields default to UNSET
(tradedesk's `AvailabilityFields`); `given_fields(inputs)` is its `given(...)`.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Final, Literal


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]


def given(**arguments: Any) -> dict[str, Any]:
    """The keyword arguments that are not UNSET, in their order."""
    return {name: value for name, value in arguments.items() if value is not UNSET}


def given_fields(inputs: object) -> dict[str, Any]:
    """The fields of a dataclass instance that are not UNSET, in their declared order."""
    assert dataclasses.is_dataclass(inputs)
    assert not isinstance(inputs, type)
    return {
        field.name: value for field in dataclasses.fields(inputs) if (value := getattr(inputs, field.name)) is not UNSET
    }
