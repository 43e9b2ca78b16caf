"""The acting user as the lower apps see it.

`accounts.User` lives above `organizations` and `events`, which may not import it; their services
type their actor with this protocol instead (the User satisfies it). Apps above accounts type it
as `User` (`apps.accounts.requests.request_user`).
"""

from __future__ import annotations

from typing import Any, Protocol, cast
from uuid import UUID


class Actor(Protocol):
    @property
    def pk(self) -> Any: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...

    @property
    def is_superuser(self) -> bool: ...

    @property
    def user_type(self) -> str: ...

    @property
    def organization_id(self) -> UUID | None: ...

    def has_perm(self, perm: str, obj: Any = None) -> bool: ...


def request_actor(request: Any) -> Actor:
    """The authenticated user of a request (API or admin) as an `Actor`, for the apps below accounts."""
    return cast(Actor, request.user)
