"""Django's own refusals (400, 403, 404 and a refused CSRF token) in the site's layout and language."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import get_resolver

from kascade_game import views
from kascade_game.models import Round
from leaderboard.models import Player

pytestmark = pytest.mark.django_db

NOT_FOUND = {"en": "Page not found", "de": "Seite nicht gefunden", "ru": "Страница не найдена"}


@pytest.mark.parametrize("language", sorted(NOT_FOUND))
def test_an_unknown_address_gets_the_sites_page_in_the_visitors_language(
    client, django_assert_num_queries, language
):
    # No session, no user, no database: the page needs nothing that may be down.
    with django_assert_num_queries(0):
        response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    body = response.content.decode()
    assert f"<title>{NOT_FOUND[language]} · KASCADE Cosmic Quiz</title>" in body
    assert 'data-error="404"' in body
    assert f'<html lang="{language}"' in body
    # The site's navigation is there: a dead link is not a dead end.
    for section in ("/play/", "/explore/", "/leaderboard/", "/rooms/"):
        assert f'href="{section}"' in body


def test_a_missing_object_shows_the_same_page_and_not_the_exceptions_text(client):
    for url in ("/players/nobody-at-all/", "/explore/987654/table/"):
        response = client.get(url)
        assert response.status_code == 404, url
        body = response.content.decode()
        assert 'data-error="404"' in body, url
        assert "no such dataset" not in body
        assert "No Player matches" not in body


def test_an_htmx_request_gets_the_message_alone(client):
    response = client.get("/no-such-partial/", HTTP_HX_REQUEST="true")
    assert response.status_code == 404
    body = response.content.decode()
    assert "<html" not in body
    assert 'role="alert" data-error="404"' in body
    assert "There is no page at this address." in body


def test_a_form_without_its_token_is_refused_in_german_and_writes_nothing(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/play/new/", {"difficulty": "easy", "nickname": "Grete"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-error="csrf"' in body
    assert "Dieses Formular ist abgelaufen" in body
    assert "Lade die Seite neu" in body
    assert "CSRF verification failed" not in body
    assert not Player.objects.exists()
    assert not Round.objects.exists()


def test_a_foreign_host_gets_a_400_page_without_touching_the_database(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert 'data-error="400"' in response.content.decode()


def test_a_refused_permission_gets_the_403_page(rf):
    # No view of ours raises PermissionDenied today; Django's handler for one is ours.
    assert get_resolver().resolve_error_handler(403) is views.permission_denied
    request = rf.get("/somewhere/", HTTP_ACCEPT_LANGUAGE="ru")
    from django.utils import translation

    with translation.override("ru"):
        response = views.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-error="403"' in body
    assert "Доступ запрещён" in body


def test_a_page_that_cannot_be_rendered_falls_back_to_one_plain_line(rf, settings):
    # Production without collectstatic's manifest: {% static %} raises. The 404 stays a 404.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    settings.STATIC_ROOT = settings.BASE_DIR / "var" / "no-manifest-here"
    response = views.page_not_found(rf.get("/gone/"))
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Page not found. There is no page")


def test_a_forms_address_opened_as_a_page_says_so_and_keeps_its_405(client):
    for url in ("/play/new/", "/booth/again/", "/i18n/setlang/"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
        assert response.status_code == 405, url
        assert response["Allow"] == "POST", url
        body = response.content.decode()
        assert 'data-error="405"' in body, url
        assert "Keine Seite zum Öffnen" in body, url
    htmx = client.get("/play/new/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 405
    assert "<html" not in htmx.content.decode()
