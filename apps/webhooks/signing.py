"""Standard Webhooks secrets and signatures (https://www.standardwebhooks.com/)."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from django.conf import settings
from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """`whsec_` + base64 of WEBHOOKS_SECRET_BYTES (at least 24) random bytes."""
    size = max(24, int(settings.WEBHOOKS_SECRET_BYTES))
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode("ascii")


def signed_headers(*, msg_id: str, timestamp: datetime, body: str, secrets_in_use: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers. One `v1,<sig>` per secret, space separated."""
    timestamp = timestamp.astimezone(UTC)  # the library reads the naive value as UTC
    signatures = [Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets_in_use]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
