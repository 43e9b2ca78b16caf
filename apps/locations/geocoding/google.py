"""Google Maps geocoder: Places Autocomplete and Place Details over HTTPS (the legacy JSON web
services), with a timeout per request, retries with backoff (stamina) and a circuit breaker
(pybreaker) shared by the process. Selected by `get_geocoder()` when GOOGLE_MAPS_API_KEY is set.

Every failure to get an answer (timeout, connection error, 5xx, 429, quota or key refused,
unreadable body) ends as GeocodingUnavailable (503 `geocoding_unavailable`); an unknown place
id is PlaceNotFound (404), and does not count against the breaker. The API key is sent as a
query parameter, as Google requires, and never logged.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import pybreaker
import stamina
from django.conf import settings

from apps.core.india import INDIA_TIMEZONE
from apps.core.logging import get_logger
from apps.locations.errors import GeocodingUnavailable, PlaceNotFound
from apps.locations.geocoding.base import PlaceDetails, Suggestion, coordinate
from apps.locations.geocoding.states import state_code_for
from apps.locations.models import LocationSource, is_timezone

log = get_logger(__name__)

AUTOCOMPLETE_PATH = "/maps/api/place/autocomplete/json"
DETAILS_PATH = "/maps/api/place/details/json"
TIMEZONE_PATH = "/maps/api/timezone/json"
DETAILS_FIELDS = "place_id,name,formatted_address,address_components,geometry"


class _RetryableAnswer(Exception):
    """5xx, 429 or status UNKNOWN_ERROR: worth another try."""


class _RefusedAnswer(Exception):
    """Google answered but will not serve us (quota, key refused, another 4xx, not JSON)."""


# One per process, like the SMS gateway's: N consecutive failed calls open it for a while.
google_maps_breaker = pybreaker.CircuitBreaker(
    fail_max=settings.GOOGLE_MAPS_BREAKER_FAIL_MAX,
    reset_timeout=settings.GOOGLE_MAPS_BREAKER_RESET_SECONDS,
    name="google-maps",
)


class GoogleMapsGeocoder:
    source = LocationSource.GOOGLE.value

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        retry_attempts: int | None = None,
        countries: list[str] | None = None,
        language: str | None = None,
    ) -> None:
        self.api_key = api_key if api_key is not None else settings.GOOGLE_MAPS_API_KEY
        self.base_url = (base_url or settings.GOOGLE_MAPS_BASE_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.GOOGLE_MAPS_TIMEOUT_SECONDS
        self.retry_attempts = retry_attempts if retry_attempts is not None else settings.GOOGLE_MAPS_RETRY_ATTEMPTS
        self.countries = countries if countries is not None else settings.GOOGLE_MAPS_COUNTRIES
        self.language = language or settings.GOOGLE_MAPS_LANGUAGE
        self._client = httpx.Client(base_url=self.base_url, timeout=self.timeout, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    # --- the contract ---------------------------------------------------------------------------

    def autocomplete(self, query: str, *, limit: int = 10) -> list[Suggestion]:
        query = query.strip()
        if not query:
            return []
        params = {"input": query, "language": self.language}
        if self.countries:
            params["components"] = "|".join(f"country:{c.lower()}" for c in self.countries)
        body = self._call(AUTOCOMPLETE_PATH, params)
        if body.get("status") not in ("OK", "ZERO_RESULTS"):
            log.warning("geocoding.autocomplete_refused", status=body.get("status"))
            return []
        suggestions = []
        for prediction in body.get("predictions", [])[:limit]:
            formatting = prediction.get("structured_formatting") or {}
            description = str(prediction.get("description", ""))
            suggestions.append(
                Suggestion(
                    place_id=str(prediction["place_id"]),
                    description=description,
                    main_text=str(formatting.get("main_text") or description.split(",")[0]),
                    secondary_text=str(formatting.get("secondary_text", "")),
                    kind="place",
                )
            )
        return suggestions

    def place_details(self, place_id: str) -> PlaceDetails:
        body = self._call(DETAILS_PATH, {"place_id": place_id, "fields": DETAILS_FIELDS, "language": self.language})
        if body.get("status") != "OK" or not isinstance(body.get("result"), dict):
            raise PlaceNotFound(f"Google Maps knows no place {place_id!r} ({body.get('status')}).")
        return self._details_from_result(place_id, body["result"])

    # --- parsing --------------------------------------------------------------------------------

    def _details_from_result(self, place_id: str, result: dict[str, Any]) -> PlaceDetails:
        components = result.get("address_components") or []

        def component(kind: str, *, short: bool = False) -> str:
            for item in components:
                if kind in item.get("types", []):
                    return str(item.get("short_name" if short else "long_name", ""))
            return ""

        try:
            location = result["geometry"]["location"]
            latitude, longitude = coordinate(location["lat"]), coordinate(location["lng"])
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise PlaceNotFound(f"Google Maps gave no coordinates for {place_id!r}.") from exc
        country = component("country", short=True).upper() or "IN"
        state_name = component("administrative_area_level_1")
        if country == "IN":
            state_code = state_code_for(state_name, component("administrative_area_level_1", short=True))
            timezone = INDIA_TIMEZONE
        else:
            short = component("administrative_area_level_1", short=True).upper()
            state_code = short if len(short) == 2 and short.isalnum() else ""
            timezone = self._timezone_at(latitude, longitude)
        # In India level 2 is the district, except where Google puts the revenue division there.
        district_candidates = [component("administrative_area_level_2"), component("administrative_area_level_3")]
        district = next((d for d in district_candidates if d and not d.endswith(" Division")), "")
        city = component("locality") or component("administrative_area_level_3") or component("sublocality")
        return PlaceDetails(
            place_id=str(result.get("place_id") or place_id),
            name=str(result.get("name") or city or result.get("formatted_address", ""))[:200],
            source=self.source,
            latitude=latitude,
            longitude=longitude,
            address=str(result.get("formatted_address", ""))[:500],
            city=city[:100],
            district=district[:100],
            state=state_name[:100],
            state_code=state_code,
            pincode=component("postal_code").replace(" ", "")[:10],
            country=country,
            timezone=timezone,
        )

    def _timezone_at(self, latitude: Decimal, longitude: Decimal) -> str:
        body = self._call(TIMEZONE_PATH, {"location": f"{latitude},{longitude}", "timestamp": str(int(time.time()))})
        zone = str(body.get("timeZoneId", ""))
        if body.get("status") != "OK" or not is_timezone(zone):
            raise GeocodingUnavailable("Google Maps did not give the place's timezone.")
        return zone

    # --- transport ------------------------------------------------------------------------------

    def _call(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            body: dict[str, Any] = google_maps_breaker.call(self._get_json, path, params)
        except pybreaker.CircuitBreakerError as exc:
            log.warning("geocoding.breaker_open", path=path)
            raise GeocodingUnavailable("The geocoding service is failing; calls are paused for a while.") from exc
        except (httpx.HTTPError, _RetryableAnswer, _RefusedAnswer) as exc:
            log.warning("geocoding.failed", path=path, error=type(exc).__name__, reason=str(exc)[:200])
            raise GeocodingUnavailable() from exc
        return body

    def _get_json(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        for attempt in stamina.retry_context(
            on=(httpx.TransportError, _RetryableAnswer),
            attempts=self.retry_attempts,
            timeout=None,
            wait_initial=0.2,
            wait_max=2.0,
        ):
            with attempt:
                response = self._client.get(path, params={**params, "key": self.api_key})
                if response.status_code == 429 or response.status_code >= 500:
                    raise _RetryableAnswer(f"answered {response.status_code}")
                if response.status_code >= 400:
                    raise _RefusedAnswer(f"answered {response.status_code}")
                try:
                    body = response.json()
                except ValueError as exc:
                    raise _RefusedAnswer("answered something other than JSON") from exc
                if not isinstance(body, dict):
                    raise _RefusedAnswer("answered JSON that is not an object")
                status = body.get("status")
                if status == "UNKNOWN_ERROR":
                    raise _RetryableAnswer("status UNKNOWN_ERROR")
                if status in ("OVER_QUERY_LIMIT", "OVER_DAILY_LIMIT", "REQUEST_DENIED"):
                    raise _RefusedAnswer(f"status {status}")
                return body
        raise AssertionError("unreachable: stamina re-raises after the last attempt")  # pragma: no cover
