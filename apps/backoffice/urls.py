from django.urls import path

from apps.backoffice import views

urlpatterns = [
    path("board/", views.board, name="backoffice-board"),
    path("board/data/", views.board_data, name="backoffice-board-data"),
]
