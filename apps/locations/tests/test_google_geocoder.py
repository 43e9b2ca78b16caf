"""SPEC section 4: with a key, Google Maps (Places Autocomplete and Place Details) answers, behind
retries and a circuit breaker.

A local stand-in (http.server on 127.0.0.1, a free port) answers Google-shaped JSON and records
each request; it can answer with a chosen status, a queue of statuses, or after a delay.
Stamina's test mode drops the backoff waits but keeps the adapter's own number of attempts.
"""

import json
import threading
import time
from collections import deque
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import stamina
from rest_framework.test import APIClient

from apps.events.models import OutboxEvent
from apps.locations.errors import GeocodingUnavailable, PlaceNotFound
from apps.locations.geocoding.google import GoogleMapsGeocoder, google_maps_breaker
from apps.locations.models import Location

RAJKOT_PREDICTIONS = {
    "status": "OK",
    "predictions": [
        {
            "place_id": "ChIJ-rajkot",
            "description": "Rajkot, Gujarat, India",
            "structured_formatting": {"main_text": "Rajkot", "secondary_text": "Gujarat, India"},
        },
        {"place_id": "ChIJ-rajula", "description": "Rajula, Gujarat, India"},
    ],
}


def _component(long_name, short_name, *types):
    return {"long_name": long_name, "short_name": short_name, "types": [*types, "political"]}


GONDAL_DETAILS = {
    "status": "OK",
    "result": {
        "place_id": "ChIJ-gondal",
        "name": "Gondal",
        "formatted_address": "Gondal, Gujarat 360311, India",
        "address_components": [
            _component("Gondal", "Gondal", "locality"),
            _component("Rajkot", "Rajkot", "administrative_area_level_3"),
            _component("Saurashtra Division", "Saurashtra Division", "administrative_area_level_2"),
            _component("Gujarat", "GJ", "administrative_area_level_1"),
            _component("India", "IN", "country"),
            {"long_name": "360311", "short_name": "360311", "types": ["postal_code"]},
        ],
        "geometry": {"location": {"lat": 21.9611837, "lng": 70.7939347}},
    },
}


class StandInGoogle:
    def __init__(self):
        self.answers = {}  # path -> deque of (status, body)
        self.default = (200, {"status": "OK", "predictions": []})
        self.delay = 0.0
        self.requests = []
        google = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                google.requests.append({"path": url.path, "query": {k: v[0] for k, v in parse_qs(url.query).items()}})
                queue = google.answers.get(url.path)
                status, body = queue.popleft() if queue and len(queue) > 1 else (queue[0] if queue else google.default)
                time.sleep(google.delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps(body).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path, *answers):
        """Answer `path` with these (status, body) in turn; the last one repeats."""
        self.answers[path] = deque(answers)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


AUTOCOMPLETE = "/maps/api/place/autocomplete/json"
DETAILS = "/maps/api/place/details/json"
TIMEZONE = "/maps/api/timezone/json"


@pytest.fixture
def google():
    with StandInGoogle() as stand_in:
        yield stand_in


@pytest.fixture(autouse=True)
def _closed_breaker():
    google_maps_breaker.close()
    yield
    google_maps_breaker.close()


@pytest.fixture(autouse=True)
def _no_retry_waits():
    # cap=True keeps the adapter's own attempts (3) and only drops the waits.
    with stamina.set_testing(True, attempts=10, cap=True):
        yield


def _geocoder(google, timeout=2.0):
    return GoogleMapsGeocoder(api_key="test-key", base_url=google.url, timeout=timeout, retry_attempts=3)


# --- parsing ------------------------------------------------------------------------------------


def test_autocomplete_sends_the_query_key_and_country_and_reads_the_predictions(google):
    google.answer(AUTOCOMPLETE, (200, RAJKOT_PREDICTIONS))

    suggestions = _geocoder(google).autocomplete("Raj", limit=5)

    assert [(s.place_id, s.main_text, s.secondary_text, s.kind) for s in suggestions] == [
        ("ChIJ-rajkot", "Rajkot", "Gujarat, India", "place"),
        ("ChIJ-rajula", "Rajula", "", "place"),
    ]
    assert suggestions[0].description == "Rajkot, Gujarat, India"
    assert google.requests == [
        {
            "path": AUTOCOMPLETE,
            "query": {"input": "Raj", "language": "en", "components": "country:in", "key": "test-key"},
        }
    ]


def test_autocomplete_keeps_to_the_limit_and_zero_results_is_empty(google):
    google.answer(AUTOCOMPLETE, (200, RAJKOT_PREDICTIONS), (200, {"status": "ZERO_RESULTS", "predictions": []}))
    geocoder = _geocoder(google)

    assert [s.place_id for s in geocoder.autocomplete("Raj", limit=1)] == ["ChIJ-rajkot"]
    assert geocoder.autocomplete("Qqq", limit=5) == []


def test_place_details_give_state_code_district_pincode_and_coordinates(google):
    google.answer(DETAILS, (200, GONDAL_DETAILS))

    details = _geocoder(google).place_details("ChIJ-gondal")

    assert details.place_id == "ChIJ-gondal"
    assert (details.name, details.city, details.district) == ("Gondal", "Gondal", "Rajkot")
    assert (details.state, details.state_code, details.pincode, details.country) == ("Gujarat", "GJ", "360311", "IN")
    assert (details.latitude, details.longitude) == (Decimal("21.961184"), Decimal("70.793935"))
    assert (details.timezone, details.source) == ("Asia/Kolkata", "GOOGLE")
    assert details.address == "Gondal, Gujarat 360311, India"
    assert google.requests[0]["query"]["place_id"] == "ChIJ-gondal"
    assert google.requests[0]["query"]["fields"] == "place_id,name,formatted_address,address_components,geometry"


@pytest.mark.parametrize(
    ("long_name", "short_name", "code"),
    [("Telangana", "TG", "TS"), ("Orissa", "OR", "OD"), ("Chhattisgarh", "CT", "CG"), ("Jammu & Kashmir", "JK", "JK")],
)
def test_google_state_names_and_iso_codes_map_to_ours(google, long_name, short_name, code):
    result = json.loads(json.dumps(GONDAL_DETAILS))
    result["result"]["address_components"][3] = _component(long_name, short_name, "administrative_area_level_1")
    google.answer(DETAILS, (200, result))

    assert _geocoder(google).place_details("ChIJ-x").state_code == code


def test_a_foreign_place_asks_google_for_its_timezone(google):
    memphis = {
        "status": "OK",
        "result": {
            "place_id": "ChIJ-memphis",
            "name": "Memphis",
            "formatted_address": "Memphis, TN, USA",
            "address_components": [
                _component("Memphis", "Memphis", "locality"),
                _component("Shelby County", "Shelby County", "administrative_area_level_2"),
                _component("Tennessee", "TN", "administrative_area_level_1"),
                _component("United States", "US", "country"),
            ],
            "geometry": {"location": {"lat": 35.1495343, "lng": -90.0489801}},
        },
    }
    google.answer(DETAILS, (200, memphis))
    google.answer(TIMEZONE, (200, {"status": "OK", "timeZoneId": "America/Chicago"}))

    details = _geocoder(google).place_details("ChIJ-memphis")

    assert (details.country, details.state_code, details.timezone) == ("US", "TN", "America/Chicago")
    assert google.requests[1]["path"] == TIMEZONE
    assert google.requests[1]["query"]["location"] == "35.149534,-90.048980"


@pytest.mark.parametrize("status", ["NOT_FOUND", "INVALID_REQUEST"])
def test_an_unknown_place_is_not_found_and_does_not_count_against_the_breaker(google, status):
    google.answer(DETAILS, (200, {"status": status}))

    with pytest.raises(PlaceNotFound):
        _geocoder(google).place_details("ChIJ-nowhere")

    assert len(google.requests) == 1
    assert google_maps_breaker.fail_counter == 0


# --- timeouts and retries -----------------------------------------------------------------------


def test_a_google_slower_than_the_timeout_is_reported_unavailable(google):
    google.delay = 0.5

    started = time.monotonic()
    with pytest.raises(GeocodingUnavailable) as excinfo:
        _geocoder(google, timeout=0.2).autocomplete("Raj")

    assert (excinfo.value.code, excinfo.value.status) == ("geocoding_unavailable", 503)
    assert len(google.requests) == 3
    assert time.monotonic() - started < 1.5


def test_two_server_errors_then_an_answer_succeeds_on_the_third_request(google):
    google.answer(AUTOCOMPLETE, (500, {}), (500, {}), (200, RAJKOT_PREDICTIONS))

    suggestions = _geocoder(google).autocomplete("Raj")

    assert [s.place_id for s in suggestions] == ["ChIJ-rajkot", "ChIJ-rajula"]
    assert len(google.requests) == 3


@pytest.mark.parametrize("answer", [(503, {}), (429, {}), (200, {"status": "UNKNOWN_ERROR"})])
def test_a_retryable_failure_is_tried_three_times_then_reported_unavailable(google, answer):
    google.answer(AUTOCOMPLETE, answer)

    with pytest.raises(GeocodingUnavailable):
        _geocoder(google).autocomplete("Raj")

    assert len(google.requests) == 3


@pytest.mark.parametrize(
    "answer", [(200, {"status": "REQUEST_DENIED"}), (200, {"status": "OVER_QUERY_LIMIT"}), (403, {})]
)
def test_a_refusal_is_not_retried(google, answer):
    google.answer(AUTOCOMPLETE, answer)

    with pytest.raises(GeocodingUnavailable):
        _geocoder(google).autocomplete("Raj")

    assert len(google.requests) == 1


def test_an_unreachable_google_is_reported_unavailable(google):
    url = google.url
    google.server.shutdown()
    google.server.server_close()

    with pytest.raises(GeocodingUnavailable):
        GoogleMapsGeocoder(api_key="k", base_url=url, timeout=0.5).autocomplete("Raj")


# --- circuit breaker ----------------------------------------------------------------------------


def test_after_five_failed_calls_the_breaker_opens_and_google_is_not_called(google):
    google.answer(AUTOCOMPLETE, (500, {}))
    geocoder = _geocoder(google)
    for _ in range(5):
        with pytest.raises(GeocodingUnavailable):
            geocoder.autocomplete("Raj")
    assert google_maps_breaker.current_state == "open"
    assert len(google.requests) == 15
    google.answer(AUTOCOMPLETE, (200, RAJKOT_PREDICTIONS))

    with pytest.raises(GeocodingUnavailable) as excinfo:
        geocoder.autocomplete("Raj")

    assert len(google.requests) == 15
    assert "paused" in excinfo.value.detail


def test_four_failed_calls_leave_the_breaker_closed(google):
    google.answer(AUTOCOMPLETE, (500, {}))
    geocoder = _geocoder(google)
    for _ in range(4):
        with pytest.raises(GeocodingUnavailable):
            geocoder.autocomplete("Raj")
    google.answer(AUTOCOMPLETE, (200, RAJKOT_PREDICTIONS))

    assert len(geocoder.autocomplete("Raj")) == 2
    assert google_maps_breaker.current_state == "closed"


# --- through the API ----------------------------------------------------------------------------


@pytest.fixture
def google_configured(settings, google):
    settings.GOOGLE_MAPS_API_KEY = "test-key"
    settings.GOOGLE_MAPS_BASE_URL = google.url
    settings.GOOGLE_MAPS_TIMEOUT_SECONDS = 1.0
    return google


@pytest.mark.django_db
def test_suggest_answers_from_google_when_a_key_is_set(authenticate, partner_user, google_configured):
    google_configured.answer(AUTOCOMPLETE, (200, RAJKOT_PREDICTIONS))

    response = authenticate(partner_user).get("/api/v1/locations/suggest/", {"q": "Raj"})

    assert response.status_code == 200
    assert response.json()["source"] == "GOOGLE"
    assert [r["place_id"] for r in response.json()["results"]] == ["ChIJ-rajkot", "ChIJ-rajula"]


@pytest.mark.django_db
def test_suggest_reports_503_geocoding_unavailable_when_google_fails(partner_user, google_configured):
    from apps.accounts.tokens import issue_tokens

    google_configured.answer(AUTOCOMPLETE, (503, {}))
    # A 5xx is reported through got_request_exception, which the test client would re-raise.
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(partner_user).access}")

    response = client.get("/api/v1/locations/suggest/", {"q": "Raj"})

    body = response.json()
    assert response.status_code == 503
    assert (body["code"], body["type"]) == ("geocoding_unavailable", "server_error")
    assert body["request_id"] == response["X-Request-ID"]
    assert len(google_configured.requests) == 3


@pytest.mark.django_db
def test_a_platform_admin_creates_a_location_from_a_google_place_id(authenticate, platform_admin, google_configured):
    google_configured.answer(DETAILS, (200, GONDAL_DETAILS))
    client = authenticate(platform_admin)

    first = client.post("/api/v1/locations/", {"place_id": "ChIJ-gondal"}, format="json")
    again = client.post("/api/v1/locations/", {"place_id": "ChIJ-gondal"}, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    location = Location.objects.get()
    assert (location.name, location.district, location.state_code, location.region) == (
        "Gondal",
        "Rajkot",
        "GJ",
        "WEST",
    )
    assert (location.pincode, location.source, location.place_id) == ("360311", "GOOGLE", "ChIJ-gondal")
    assert len(google_configured.requests) == 1  # the second request found the place id without asking Google
    assert OutboxEvent.objects.filter(type="locations.location.created").count() == 1
