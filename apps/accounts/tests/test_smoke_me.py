import pytest

from apps.accounts.tests.factories import UserFactory


@pytest.mark.django_db
def test_me_returns_the_signed_in_staff_user_with_organization(authenticate):
    user = UserFactory()

    response = authenticate(user).get("/api/v1/me")

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == str(user.id)
    assert body["user"]["user_type"] == "INTERNAL"
    assert body["user"]["organization"]["code"] == user.organization.code
    assert body["partner"] is None
