from django.urls import path

from apps.backoffice import timeline, views

urlpatterns = [
    path("board/", views.board, name="backoffice-board"),
    path("board/data/", views.board_data, name="backoffice-board-data"),
    path(
        "timeline/<str:app_label>/<str:model_name>/<str:object_id>/",
        timeline.timeline_view,
        name="backoffice-timeline",
    ),
]
