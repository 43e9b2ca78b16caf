"""What the organizations API modules share: the tag, the path prefix of one organization and
the base view whose `authorize` is the gate of every operation under `/organizations/{id}/`: 404
when the caller may not see the organization (staff of another one, partner users), 403 without
the permission the operation needs. The services check the same again.

Operations sharing a path are composed into one routing class at the end of each module. GST
registrations and bank accounts are never deleted: PATCH `is_active=false` deactivates them
(invoices and payments will point at them).
"""

from __future__ import annotations

from uuid import UUID

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.organizations import selectors

TAG = "organizations"
ORGANIZATION_PATH = "organizations/<uuid:organization_id>"


class OrganizationsApi(APIView):
    permission_classes = [IsAuthenticated]

    def authorize(self, request: Request, organization_id: UUID, action: str, model: str) -> None:
        selectors.organization_get(user=request.user, organization_id=organization_id, action=action, model=model)
