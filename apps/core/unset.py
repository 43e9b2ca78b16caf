"""`UNSET`: the default of a service's optional change arguments, so "not given" differs from
"set to None/blank". `given(...)` keeps the arguments that were passed.

    def unit_update(*, actor: User, unit_id: UUID, name: str | Unset = UNSET) -> Unit:
        changes = given(name=name)
"""

from __future__ import annotations

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
