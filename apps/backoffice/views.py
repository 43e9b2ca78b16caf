"""The live desk board: one page for the desk (market, prices, queues, the day's matches and
trades), read through the selectors of the staff member's organization."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.accounts.models import User
from apps.backoffice.board import board_snapshot


@staff_member_required
def board(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    context = {
        **admin.site.each_context(request),
        "title": "Desk board",
        "snapshot": board_snapshot(user),
    }
    return render(request, "backoffice/board.html", context)


@staff_member_required
def board_data(request: HttpRequest) -> JsonResponse:
    user = request.user
    assert isinstance(user, User)
    return JsonResponse(board_snapshot(user))
