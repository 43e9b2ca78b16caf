"""Webhook use cases, one module per aggregate: `endpoints.py` and `deliveries.py` (what both share
is in `common.py`).

Lock order: an endpoint row, then delivery rows. HTTP never runs inside a transaction: an
attempt is claimed by one conditional UPDATE, sent, then recorded in a short transaction.
Tasks are queued after commit; the beat sweeper (`deliveries_enqueue_due`) re-queues whatever
a lost message or a long wait left behind, so queueing is best effort.
"""
