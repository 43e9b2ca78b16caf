"""Secret rotation: both signatures for 24 hours, then only the new one."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import WebhookVerificationError

from apps.webhooks.services.deliveries import delivery_attempt
from apps.webhooks.services.endpoints import endpoint_rotate_secret

pytestmark = pytest.mark.django_db


def test_after_a_rotation_both_secrets_sign_for_24_hours_then_only_the_new_one(
    endpoint, receiver, make_delivery, org_admin
):
    old_secret = endpoint.secret
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        rotated = endpoint_rotate_secret(actor=org_admin, endpoint_id=endpoint.id)
        new_secret = rotated.secret
        assert new_secret != old_secret
        assert new_secret.startswith("whsec_")
        assert rotated.previous_secret_expires_at == timezone.now() + timedelta(hours=24)

        traveller.move_to(timezone.now() + timedelta(hours=23, minutes=59))
        delivery_attempt(delivery_id=make_delivery(endpoint).id)

        within = receiver.requests[-1]
        assert len(within.signatures) == 2
        within.verify(new_secret)
        within.verify(old_secret)
        assert within.signatures[0] != within.signatures[1]

        traveller.move_to(timezone.now() + timedelta(minutes=2))
        delivery_attempt(delivery_id=make_delivery(endpoint).id)

        after = receiver.requests[-1]
        assert len(after.signatures) == 1
        after.verify(new_secret)
        with pytest.raises(WebhookVerificationError):
            after.verify(old_secret)


def test_a_second_rotation_keeps_only_the_secret_it_replaced(endpoint, receiver, make_delivery, org_admin):
    first = endpoint.secret
    second = endpoint_rotate_secret(actor=org_admin, endpoint_id=endpoint.id).secret
    third = endpoint_rotate_secret(actor=org_admin, endpoint_id=endpoint.id).secret

    delivery_attempt(delivery_id=make_delivery(endpoint).id)

    request = receiver.requests[-1]
    assert len(request.signatures) == 2
    request.verify(third)
    request.verify(second)
    with pytest.raises(WebhookVerificationError):
        request.verify(first)
