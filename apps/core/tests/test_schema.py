"""The OpenAPI schema is served at /api/schema/ and the Swagger UI at /api/docs/."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client

EXPECTED_PATHS = {"/api/v1/auth/token", "/api/v1/me", "/api/v1/health/ready", "/api/v1/health/live"}


@pytest.fixture(scope="module")
def schema_json() -> dict:
    """The schema as JSON, generated once for the module (generation is the slow part; it needs
    no database)."""
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    return response.json()


def test_the_schema_is_openapi_3_in_yaml_by_default(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= EXPECTED_PATHS


def test_the_schema_is_served_as_json_on_request(schema_json):
    assert schema_json["openapi"].startswith("3.")
    assert schema_json["info"]["title"] == "Cotton ERP API"
    assert set(schema_json["paths"]) >= EXPECTED_PATHS


def test_every_api_path_is_under_api_v1(schema_json):
    assert all(path.startswith("/api/v1/") for path in schema_json["paths"])


def test_login_is_a_post_and_me_a_get(schema_json):
    assert "post" in schema_json["paths"]["/api/v1/auth/token"]
    assert "get" in schema_json["paths"]["/api/v1/me"]


def test_readiness_documents_both_its_200_and_503_answers(schema_json):
    responses = schema_json["paths"]["/api/v1/health/ready"]["get"]["responses"]

    assert {"200", "503"} <= set(responses)


def test_the_swagger_ui_is_an_html_page_pointing_at_the_schema(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/api/schema/" in html


def test_the_swagger_ui_loads_its_assets_from_our_own_static_files_not_a_cdn(client):
    html = client.get("/api/docs/").content.decode()

    assert "cdn.jsdelivr.net" not in html
    assert "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


def test_the_swagger_ui_bundle_is_served_by_the_app(client):
    from django.contrib.staticfiles import finders

    # The file the page names exists among the static files (whitenoise / collectstatic serve it).
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js") is not None


def test_every_operation_documents_its_error_answers_with_the_error_shape(schema_json):
    """Issue 14, item 11: one postprocessing hook (apps/core/openapi.py), not each view."""
    error = schema_json["components"]["schemas"]["ApiError"]
    assert set(error["required"]) == {"type", "code", "detail", "errors", "request_id"}
    missing = []
    for path, methods in schema_json["paths"].items():
        for method, operation in methods.items():
            documented = set(operation["responses"])
            wanted = {"400", "401", "403", "404", "409", "429"} | ({"413"} if "requestBody" in operation else set())
            if not wanted <= documented:
                missing.append(f"{method.upper()} {path}: {sorted(wanted - documented)}")
            login = operation["responses"]["401"]
            assert "content" in login, f"{method.upper()} {path} 401 has no body"
    assert missing == []
