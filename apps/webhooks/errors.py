from apps.core.errors import DomainError


class WebhookUrlNotAllowed(DomainError):
    code = "webhook_url_not_allowed"
    status = 400
    default_detail = "Webhook URLs must be http(s) URLs that resolve to public addresses."


class WebhookOwnerRequired(DomainError):
    code = "webhook_owner_required"
    status = 403
    default_detail = "Only organization staff and partner users can own webhook endpoints."


class WebhookEndpointInactive(DomainError):
    code = "webhook_endpoint_inactive"
    status = 409
    default_detail = "The endpoint is disabled; enable it first."


class WebhookDeliveryNotReplayable(DomainError):
    code = "webhook_delivery_not_replayable"
    status = 409
    default_detail = "Only failed, dead or cancelled deliveries can be replayed."
