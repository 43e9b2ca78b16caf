"""Authorization sweep of the back office (issue 14, "a permanent sweep", for the admin's routes).

Every model registered in the admin site, every URL of its ModelAdmin with an object in the path
(change, history, delete, the object-tool actions and custom pages such as a document's decision),
is called with an object of the victim organization SCH by two callers who must not reach it:

    other_org_staff    DFT's organization admin (a staff user with the strongest organization role)
    partner_user       the owner of a SCH partner (not staff: the admin is not theirs at all)

by GET and by POST (a delete confirmation included). None may get the object's page (a 200), none
may write a row (Postgres's per-transaction statistics, as in the API sweep). Django's admin
answers an object outside `get_queryset` with a redirect to the admin index; a refused permission
with 403; a non-staff caller with a redirect to the login page: all count as refusals, as long as
the redirect does not lead to the object itself.

Models join by themselves when they are registered. Their victim is found by the model's link to an
organization (ORGANIZATION_PATHS); a model with none must be listed in GLOBAL_MODELS with why every
organization's staff may (or may not) see its rows, or the sweep fails.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.utils.timezone import now

from apps.core.tests.sweeps.support import World, model, write_counts, writes_between

# One xdist worker runs, one after the other, the tests that hold a long transaction (the sweeps'
# seeded world) and those that wait for the feed's visibility horizon, which any running
# transaction on the server holds back (`make test` runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("outbox_horizon")

# How a model's row names its organization, tried in order.
ORGANIZATION_PATHS = (
    "organization_id",
    "partner__organization_id",
    "endpoint__organization_id",
    "user__organization_id",
    "trade__organization_id",
)

# Models with no organization: platform data every organization shares, or the platform's own
# plumbing. Their pages are not swept for reads (an organization's staff may read shared masters;
# the plumbing is guarded by model permissions the organization roles do not hold); writes are.
GLOBAL_MODELS: dict[str, str] = {
    "auth.Group": "roles: platform-wide, written by platform admins only",
    "axes.AccessAttempt": "sign-in lockout records: platform plumbing, platform admins only",
    "axes.AccessLog": "sign-in log: platform plumbing, platform admins only",
    "axes.AccessFailureLog": "sign-in failures: platform plumbing, platform admins only",
    "token_blacklist.BlacklistedToken": "revoked tokens: platform plumbing, platform admins only",
    "django_celery_beat.PeriodicTask": "the beat schedule: platform plumbing",
    "django_celery_beat.ClockedSchedule": "the beat schedule: platform plumbing",
    "django_celery_beat.CrontabSchedule": "the beat schedule: platform plumbing",
    "django_celery_beat.SolarSchedule": "the beat schedule: platform plumbing",
    "django_celery_beat.IntervalSchedule": "the beat schedule: platform plumbing",
    "pghistory.Events": "audit rows: read through each record's own history page, which is swept",
    "locations.Location": "the gazetteer: a shared master",
    "commodities.Commodity": "a shared master",
    "commodities.CommissionStructure": "a shared master",
    "commodities.QualitySchedule": "a shared master",
    "commodities.TradeTerm": "a shared master",
    "commodities.Unit": "a shared master",
    "matching.MatchingWeights": "a shared master (per commodity)",
}

# A refused request may still touch the caller's own session row.
OWN_RECORDS = frozenset({"django_session"})

OBJECT_PARAMETER = re.compile(r"<(?:path:|uuid:)?(object_id|pk)>|\(\?P<pk>[^)]*\)")
OTHER_PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")


def _organization_path(model_class: type[Model]) -> str | None:
    def has_column(cls: type[Model], attname: str) -> bool:
        return any(f.attname == attname for f in cls._meta.concrete_fields)

    for path in ORGANIZATION_PATHS:
        head, *rest = path.split("__")
        if not rest:
            if has_column(model_class, head):
                return path
            continue
        field = next((f for f in model_class._meta.concrete_fields if f.name == head), None)
        related = getattr(field, "related_model", None)
        if related is not None and has_column(related, rest[-1]):
            return path
    return None


def _registered() -> list[tuple[type[Model], Any]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _object_urls(model_admin: Any, object_id: str, extra: dict[str, str]) -> list[str]:
    """Every URL of the model admin with the object in it, filled in."""
    opts = model_admin.model._meta
    base = f"/admin/{opts.app_label}/{opts.model_name}/"
    urls = []
    for pattern in model_admin.get_urls():
        text = str(pattern.pattern)
        if not OBJECT_PARAMETER.search(text):
            continue
        if "(?P<tool>" in text:  # django-object-actions: one URL per object tool
            for tool in getattr(model_admin, "change_actions", ()):
                urls.append(f"{base}{object_id}/actions/{tool}/")
            continue
        path = OBJECT_PARAMETER.sub(object_id, text)
        path = OTHER_PARAMETER.sub(lambda m: extra.get(m.group("name"), str(uuid.uuid4())), path)
        urls.append(base + path.lstrip("^").rstrip("$"))
    return urls


def _victim(model_class: type[Model], w: World) -> Model | None:
    if model_class._meta.label == "organizations.Organization":
        return w.victim_org
    path = _organization_path(model_class)
    assert path is not None
    return model_class._default_manager.filter(**{path: w.victim_org.pk}).order_by("pk").first()


def _extra_values(victim: Model) -> dict[str, str]:
    """Values for a URL's other parameters: the victim application's own document."""
    if victim._meta.label == "partners.OnboardingApplication":
        document = model("partners.PartnerDocument").objects.filter(application=victim).first()
        if document is not None:
            return {"document_id": str(document.pk)}
    return {}


def _refused(response: Any, object_id: str) -> bool:
    """After following redirects: a 403/404, or a page that is not about the object (Django's
    admin sends an object outside `get_queryset` to the index; a non-staff caller to the login)."""
    if response.status_code in (403, 404):
        return True
    final = response.redirect_chain[-1][0] if response.redirect_chain else response.request["PATH_INFO"]
    return response.status_code == 200 and object_id not in urlsplit(final).path


def _complete_admin_victims(w: World) -> None:
    """Rows of kinds seed_demo leaves empty in SCH: an applicant's sign-in code (a registered
    user's code names no organization) and the SMS of a partner owner's, a refresh token, a
    partner's trade profile, a webhook delivery to the victim partner's endpoint."""
    from apps.accounts.services.otp import otp_request
    from apps.accounts.tokens import issue_tokens

    otp_request(mobile=str(w.victim_partner_user.mobile), organization_code="SCH")
    otp_request(mobile="+919899990001", organization_code="SCH")
    issue_tokens(w.victim_partner_user)
    membership = model("partners.PartnerMembership").objects.filter(user=w.victim_partner_user).first()
    model("trades.PartnerTradeProfile").objects.get_or_create(partner_id=membership.partner_id)
    endpoint = model("webhooks.WebhookEndpoint").objects.filter(organization_id=w.victim_org.pk).first()
    model("webhooks.WebhookDelivery").objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type="partners.partner.updated",
        body="{}",
        next_attempt_at=now(),
    )


def test_every_admin_model_names_its_organization_or_is_listed_as_global() -> None:
    unknown = [
        f"{model_class._meta.label}: no organization link ({', '.join(ORGANIZATION_PATHS)}) and not in GLOBAL_MODELS"
        for model_class, _ in _registered()
        if model_class._meta.label != "organizations.Organization"
        and _organization_path(model_class) is None
        and model_class._meta.label not in GLOBAL_MODELS
    ]

    assert not unknown, "\n".join(unknown)
    assert len(_registered()) >= 40  # the admin site was read (a sanity floor, not a pin)


@pytest.mark.django_db
@pytest.mark.parametrize("caller", ["other_org_staff", "partner_user"])
def test_no_caller_reaches_a_back_office_page_of_another_organizations_object(world: World, caller: str) -> None:
    user = world.other_org_staff if caller == "other_org_staff" else world.victim_partner_user
    _complete_admin_victims(world)
    client = Client()
    client.force_login(user)
    problems: list[str] = []
    calls = swept_models = 0

    for model_class, model_admin in _registered():
        label = model_class._meta.label
        if label in GLOBAL_MODELS:
            continue
        victim = _victim(model_class, world)
        if victim is None:
            problems.append(f"{label}: the seeded world holds no SCH row to sweep with")
            continue
        swept_models += 1
        object_id = str(victim.pk)
        for url in _object_urls(model_admin, object_id, _extra_values(victim)):
            for method in ("get", "post"):
                data = {"post": "yes"} if url.endswith("/delete/") else {}
                before = write_counts()
                response = client.get(url, follow=True) if method == "get" else client.post(url, data, follow=True)
                written = writes_between(before, write_counts(), ignore=OWN_RECORDS)
                calls += 1
                if not _refused(response, object_id):
                    chain = " -> ".join(hop for hop, _ in response.redirect_chain)
                    problems.append(f"{method.upper()} {url}: {response.status_code} {chain}")
                if written:
                    problems.append(f"{method.upper()} {url} wrote {written} ({response.status_code})")
                # The victim is still there, unchanged in its existence.
                if not model_class._default_manager.filter(pk=victim.pk).exists():
                    problems.append(f"{method.upper()} {url} deleted the victim")

    assert not problems, f"{caller}: {len(problems)} of {calls} calls\n" + "\n".join(problems)
    assert swept_models >= 20, swept_models
    assert calls >= 200, calls


@pytest.mark.django_db
def test_global_models_are_not_written_by_an_organizations_staff(world: World) -> None:
    """The shared masters and the plumbing: an organization's admin may read some, writes none."""
    client = Client()
    client.force_login(world.other_org_staff)
    problems: list[str] = []
    calls = 0

    for model_class, model_admin in _registered():
        if model_class._meta.label not in GLOBAL_MODELS:
            continue
        row = model_class._default_manager.order_by("pk").first()
        if row is None:
            continue
        for url in _object_urls(model_admin, str(row.pk), {}):
            if url.endswith("/history/"):
                continue  # a read
            data = {"post": "yes"} if url.endswith("/delete/") else {}
            before = write_counts()
            response = client.post(url, data)
            written = writes_between(before, write_counts(), ignore=OWN_RECORDS)
            calls += 1
            if response.status_code >= 500 or written:
                problems.append(f"POST {url}: {response.status_code}, wrote {written}")

    assert not problems, f"{len(problems)} of {calls} calls\n" + "\n".join(problems)
    assert calls >= 20
