from django.urls import path

from . import booth, views

room_patterns = [
    path("", views.rooms_home, name="rooms"),
    path("new/", views.room_create, name="room-create"),
    path("join/", views.room_join, name="room-join"),
    path("teacher-request/", views.teacher_request, name="teacher-request"),
    path("play/<str:code>/", views.room_lobby, name="room-lobby"),
    path("<int:room_id>/", views.room_detail, name="room-detail"),
    path("<int:room_id>/control/", views.room_control, name="room-control"),
    path("<int:room_id>/screen/", views.room_screen, name="room-screen"),
    path("<int:room_id>/results/", views.room_results, name="room-results"),
    path("<int:room_id>/export.csv", views.room_export, name="room-export"),
]

booth_patterns = [
    path("", booth.booth_home, name="booth"),
    path("start/", booth.booth_start, name="booth-start"),
    path("again/", booth.booth_again, name="booth-again"),
    path("reset/", booth.booth_reset, name="booth-reset"),
    path("attract/", booth.booth_attract, name="booth-attract"),
    path("screen/", booth.booth_screen, name="booth-screen"),
]
