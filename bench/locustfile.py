"""The load test's users (bench/load.py starts locust on this file; it is not run on its own).

Each simulated user is one partner user of the bench organization, with a JWT made by the bench
(no sign-in through the rate limits): it browses the market (and follows a page's cursor), reads
its own requirements, posts a requirement and publishes it, and reserves by starting a
negotiation from one of its match tokens and making the first offer (the offer reserves the
quantity on the availability). In the `baseline` mode the same users only GET the liveness probe,
so the run's latencies sit next to those of the cheapest request the stack answers.

Every answer but the expected one counts as a failure (locust's `catch_response`).
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from locust import HttpUser, between, task

DATA: dict[str, Any] = json.loads(open(os.environ["LOAD_DATA"], encoding="utf-8").read())  # noqa: SIM115
MODE = os.environ.get("LOAD_MODE", "real")
TIMEOUT = 60
_next_user = itertools.count()


class _PartnerUser(HttpUser):
    abstract = True
    wait_time = between(float(os.environ.get("LOAD_WAIT_MIN", "5")), float(os.environ.get("LOAD_WAIT_MAX", "15")))

    def on_start(self) -> None:
        me = DATA["users"][next(_next_user) % len(DATA["users"])]
        self.client.headers["Authorization"] = f"Bearer {me['access']}"
        self.tokens = list(me["match_tokens"])

    def _expect(self, method: str, url: str, status: int, name: str, **kwargs: Any) -> dict[str, Any] | None:
        with self.client.request(method, url, name=name, timeout=TIMEOUT, catch_response=True, **kwargs) as response:
            if response.status_code != status:
                # Status 0 is no HTTP answer at all (reset, refused, timed out): name the error.
                detail = response.text[:200] if response.status_code else repr(response.error)[:200]
                response.failure(f"{response.status_code}: {detail}")
                return None
            response.success()
            return response.json() if response.content else {}


class MarketUser(_PartnerUser):
    abstract = MODE != "real"

    @task(6)
    def browse_market(self) -> None:
        page = self._expect("GET", "/api/v1/market/availabilities/?page_size=50", 200, "market availabilities")
        if page and page.get("next"):
            self._expect("GET", page["next"], 200, "market availabilities (next page)")

    @task(2)
    def browse_requirements(self) -> None:
        self._expect("GET", "/api/v1/market/requirements/?page_size=50", 200, "market requirements")

    @task(2)
    def own_requirements(self) -> None:
        self._expect("GET", "/api/v1/requirements/?page_size=20", 200, "own requirements")

    @task(1)
    def post_requirement(self) -> None:
        today = date.today()
        body = {
            "commodity_id": DATA["commodity_id"],
            "quantity_unit": "BALE",
            "min_quantity": "50",
            "max_quantity": "200",
            "preferred_quantity": "100",
            "spec": {"staple_length": {"min": "28.5"}, "micronaire": {"min": "3.6", "max": "4.8"}},
            "price_unit": "CANDY",
            "max_price": "62000",
            "delivery_locations": [{"location_id": DATA["location_id"], "radius_km": "100"}],
            "delivery_from": (today + timedelta(days=7)).isoformat(),
            "delivery_until": (today + timedelta(days=45)).isoformat(),
            "urgency": "NORMAL",
            "visibility": "PUBLIC",
            "valid_until": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        }
        created = self._expect("POST", "/api/v1/requirements/", 201, "post requirement", json=body)
        if created:
            self._expect("POST", f"/api/v1/requirements/{created['id']}/publish", 200, "publish requirement", json={})

    @task(2)
    def reserve(self) -> None:
        if not self.tokens:
            return
        token = self.tokens.pop()
        started = self._expect(
            "POST",
            "/api/v1/negotiations/",
            201,
            "start negotiation",
            json={"match_token": token},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if not started:
            return
        today = date.today()
        offer = {
            "price": "60000",
            "price_unit": "CANDY",
            "quantity": "25",
            "quantity_unit": "BALE",
            "delivery_from": (today + timedelta(days=7)).isoformat(),
            "delivery_until": (today + timedelta(days=20)).isoformat(),
        }
        self._expect(
            "POST",
            f"/api/v1/negotiations/{started['id']}/offers/",
            201,
            "offer (reserves)",
            json=offer,
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )


class ProbeUser(_PartnerUser):
    abstract = MODE != "baseline"

    @task
    def live(self) -> None:
        self._expect("GET", "/api/v1/health/live", 200, "health/live")
