"""Refusals of the matching app, each with a stable code (core.errors.DomainError)."""

from __future__ import annotations

from apps.core.errors import NotFound


class MatchNotFound(NotFound):
    """An unknown token, or one the caller is not party to (the same answer, so a token's
    existence leaks nothing)."""

    code = "match_not_found"
    default_detail = "No such match."
