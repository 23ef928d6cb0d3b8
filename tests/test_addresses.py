"""Behind the cluster's ingress every request comes from the ingress pod: the rate
limits count the address the trusted proxies passed on (kascade_game/addresses.py)."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from kascade_game.addresses import client_ip
from kascade_game.models import Round
from tests.conftest import fresh_ratelimit_window, unused_address
from tests.test_foundation import SHOW_SETTINGS, _settings_in_subprocess
from tests.test_rooms import create_room, join, make_teacher, teacher_client

INGRESS = "10.244.0.17"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        # No proxy configured (make run): the header is whatever a client wrote.
        (0, "203.0.113.7", INGRESS),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, " 203.0.113.7 ", "203.0.113.7"),
        (1, "2001:db8::1", "2001:db8::1"),
        # What a client wrote itself stands left of what the proxy added.
        (1, "198.51.100.66, 203.0.113.7", "203.0.113.7"),
        (2, "198.51.100.66, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        # Not through every proxy (a probe inside the cluster), or not an address.
        (1, None, INGRESS),
        (1, "", INGRESS),
        (2, "203.0.113.7", INGRESS),
        (1, "unknown", INGRESS),
        (1, "203.0.113.7:50312", INGRESS),
    ],
)
def test_the_client_is_the_address_the_trusted_proxies_passed_on(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    request = RequestFactory().get("/", REMOTE_ADDR=INGRESS, **headers)
    assert client_ip(request) == expected


@pytest.mark.ratelimit
def test_behind_the_ingress_one_class_out_of_wrong_codes_does_not_lock_out_another(
    game_data, settings
):
    settings.TRUSTED_PROXIES = 1
    settings.ROOM_JOIN_FAILURE_RATE = "3/m"
    room = create_room(teacher_client(make_teacher()))
    first_school, second_school = unused_address(), unused_address()
    fresh_ratelimit_window(first_school, 60)
    fresh_ratelimit_window(second_school, 60)

    def student(*forwarded: str) -> Client:
        return Client(REMOTE_ADDR=INGRESS, HTTP_X_FORWARDED_FOR=", ".join(forwarded))

    wrong = [join(student(first_school), room, "Kim", code=f"WRONG{i:03d}") for i in range(3)]
    assert [response.status_code for response in wrong] == [404, 404, 404]
    assert join(student(first_school), room, "Kim").status_code == 429
    # A student there cannot pass for another school by writing the header themselves.
    spoofed = join(student(unused_address(), first_school), room, "Kim")
    assert spoofed.status_code == 429
    assert not Round.objects.filter(room=room).exists()
    # The other school, through the same ingress pod, joins.
    assert join(student(second_school), room, "Lea").status_code == 302
    assert Round.objects.filter(room=room, player__nickname="Lea").exists()


@pytest.mark.parametrize("value", ["one", "-1", "1.5"])
def test_a_trusted_proxies_value_that_is_not_a_count_stops_the_start_with_the_reason(value):
    result = _settings_in_subprocess({"TRUSTED_PROXIES": value}, SHOW_SETTINGS)
    assert result.returncode != 0
    assert "TRUSTED_PROXIES must be the number of proxies in front of the application" in (
        result.stderr
    )
    assert repr(value) in result.stderr
