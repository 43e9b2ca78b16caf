"""emit_many() writes the rows emit() would, in one INSERT: positions increasing in list order,
one transaction id, the request id, nothing outside a transaction, nothing left on rollback."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction

from apps.core.request_context import reset_request_id, set_request_id
from apps.events.emit import PendingEvent, emit, emit_many
from apps.events.errors import EmitOutsideTransaction
from apps.events.models import EventStatus, OutboxEvent


def _pending(n: int, partner_id: uuid.UUID | None = None) -> PendingEvent:
    return PendingEvent(
        event_type=f"test.thing.{n}",
        aggregate_type="test.thing",
        aggregate_id=str(n),
        organization_id=None,
        partner_id=partner_id,
        payload={"n": n},
    )


@pytest.mark.django_db
def test_many_events_get_increasing_positions_in_list_order_after_earlier_ones(django_assert_num_queries):
    partner = uuid.uuid4()
    token = set_request_id("req-0123456789ab")
    try:
        with transaction.atomic():
            single = emit("test.thing.first", aggregate_type="test.thing", aggregate_id="0")
            with django_assert_num_queries(1):  # the INSERT, positions drawn in it
                written = emit_many([_pending(1, partner), _pending(2), _pending(3)])
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_current_xact_id()::text::bigint")
                txid = cursor.fetchone()[0]
    finally:
        reset_request_id(token)

    rows = list(OutboxEvent.objects.order_by("position"))
    assert [(r.type, r.position) for r in rows] == [
        ("test.thing.first", single.position),
        ("test.thing.1", single.position + 1),
        ("test.thing.2", single.position + 2),
        ("test.thing.3", single.position + 3),
    ]
    assert [r.pk for r in rows[1:]] == [w.pk for w in written]
    assert {r.txid for r in rows} == {txid}
    first = rows[1]
    assert (first.aggregate_type, first.aggregate_id, first.partner_id, first.payload) == (
        "test.thing",
        "1",
        partner,
        {"n": 1},
    )
    assert (first.status, first.correlation_id, first.version) == (EventStatus.PENDING, "req-0123456789ab", 1)


@pytest.mark.django_db
def test_no_events_writes_nothing_and_a_rollback_leaves_none(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(0):
        assert emit_many([]) == []

    def write_then_fail() -> None:
        with transaction.atomic():
            emit_many([_pending(1), _pending(2)])
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_then_fail()

    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_emit_many_outside_a_transaction_raises_and_writes_nothing():
    with pytest.raises(EmitOutsideTransaction, match=r"emit_many\(\) must run inside transaction.atomic\(\)"):
        emit_many([_pending(1)])

    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_emit_many_writes_the_row_emit_writes_parties_ids_and_payload_included():
    buyer, seller, organization, actor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    payload = {"price": "58020.00", "nested": {"list": [1, 2.5, None, "é\"'\\"]}, "empty": {}}
    with transaction.atomic():
        single = emit(
            "test.thing.same",
            aggregate_type="test.thing",
            aggregate_id="7",
            organization_id=str(organization),
            partner_id=buyer,
            parties=[seller, None, str(buyer), seller],
            actor=actor,
            payload=payload,
        )
        (many,) = emit_many(
            [
                PendingEvent(
                    event_type="test.thing.same",
                    aggregate_type="test.thing",
                    aggregate_id=7,  # type: ignore[arg-type]
                    organization_id=str(organization),
                    partner_id=buyer,
                    parties=(seller, None, str(buyer), seller),  # type: ignore[arg-type]
                    actor_id=actor,
                    payload=payload,
                )
            ]
        )
    fields = [
        "type", "version", "organization_id", "partner_id", "parties", "aggregate_type", "aggregate_id",
        "actor_id", "correlation_id", "payload", "status", "attempts", "claimed_until", "last_error", "dispatched_at",
    ]  # fmt: skip
    stored = {row["id"]: row for row in OutboxEvent.objects.values("id", "position", "txid", *fields)}
    one, other = stored[single.pk], stored[many.pk]
    assert {f: one[f] for f in fields} == {f: other[f] for f in fields}
    assert other["parties"] == [seller, buyer]
    assert other["payload"] == payload
    assert (other["position"], other["txid"]) == (one["position"] + 1, one["txid"])
    assert (many.position, many.txid, many.parties) == (other["position"], other["txid"], [seller, buyer])


@pytest.mark.django_db
def test_without_instances_the_same_rows_are_written_and_nothing_is_returned(django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):
        assert emit_many([_pending(1), _pending(2)], instances=False) == []
    rows = list(OutboxEvent.objects.order_by("position").values_list("type", "aggregate_id", "payload"))
    assert rows == [("test.thing.1", "1", {"n": 1}), ("test.thing.2", "2", {"n": 2})]
