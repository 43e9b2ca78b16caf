from apps.core.errors import DomainError


class EmitOutsideTransaction(RuntimeError):
    """A programming error, not a request error: emit() must share the caller's transaction."""


class EventNotReplayable(DomainError):
    code = "event_not_replayable"
    status = 409
    default_detail = "Only dead-lettered events can be replayed."
