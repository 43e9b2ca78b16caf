from celery import shared_task

from apps.accounts import services


@shared_task(name="apps.accounts.tasks.prune_auth_artifacts")
def prune_auth_artifacts() -> dict[str, int]:
    return services.prune_auth_artifacts()
