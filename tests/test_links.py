"""Every link the site shows leads somewhere: a crawl from the start page, as a visitor
who has played and as a teacher with a room, finds no link that answers 4xx or 5xx."""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from rooms import services as room_services
from rooms.models import TEACHERS_GROUP
from tests.conftest import finish_round

pytestmark = pytest.mark.django_db

HREF = re.compile(r'<a [^>]*href="([^"#]*)')
# Not pages to open: files, the admin, logging out, and what only a form or a script asks.
NOT_A_PAGE = re.compile(
    r"^/(static|admin|accounts/logout|i18n)/|\.(csv|json)$|^/booth/(reset|again)/"
)
PAGES = 150


def crawl(client: Client) -> tuple[int, list[str]]:
    seen: set[str] = set()
    queue = deque(["/"])
    broken = []
    while queue and len(seen) < PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code >= 400:
            broken.append(f"{url}: {response.status_code}")
            continue
        if response.status_code >= 300 or "html" not in response["Content-Type"]:
            continue
        for href in HREF.findall(response.content.decode()):
            target = urlparse(urljoin("http://testserver" + url, unescape(href)))
            if target.netloc != "testserver":
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            # A table's pages: the first two of each are enough to follow.
            if re.search(r"[?&]page=(\d+)", path) and int(re.search(r"page=(\d+)", path)[1]) > 2:
                continue
            if not NOT_A_PAGE.search(target.path) and path not in seen:
                queue.append(path)
    return len(seen), broken


def test_no_link_on_the_site_is_dead(game_data):
    player = Client()
    finish_round(player)
    user = get_user_model().objects.create_user("lise", password="fission-1938-x")
    registered = Client()
    registered.force_login(user)
    finish_round(registered)
    teacher = get_user_model().objects.create_user("ms-curie", password="radium-1898-polonium")
    teacher.groups.add(Group.objects.get_or_create(name=TEACHERS_GROUP)[0])
    room_services.create_room(teacher=teacher, name="Class 9b", size=5)
    teacher_client = Client()
    teacher_client.force_login(teacher)

    for who, client in (
        ("player", player),
        ("registered", registered),
        ("teacher", teacher_client),
    ):
        visited, broken = crawl(client)
        assert visited > 20, who
        assert broken == [], f"{who}: {broken}"
