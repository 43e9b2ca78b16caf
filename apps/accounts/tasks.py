from celery import shared_task

from apps.accounts.services import tokens


@shared_task(name="apps.accounts.tasks.prune_auth_artifacts")
def prune_auth_artifacts() -> dict[str, int]:
    return tokens.prune_auth_artifacts()
