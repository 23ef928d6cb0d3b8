"""Foundation: pages of the contract, health probes, both settings modes, a real worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.conftest import embedded_only, requires_services

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_PAGES = [
    "/",
    "/play/",
    "/explore/",
    "/leaderboard/",
    "/rooms/",
    "/booth/",
    "/accounts/login/",
]


@pytest.mark.django_db
def test_intro_introduces_kascade_and_the_game(client):
    response = client.get("/")
    assert response.status_code == 200
    text = response.content.decode()
    for fact in (
        "252 detector stations",
        "200 m × 200 m",
        "110 m above sea level",
        "KCDC",
        "/play/",
    ):
        assert fact in text


@pytest.mark.django_db
@pytest.mark.parametrize("url", CONTRACT_PAGES)
def test_every_contract_page_answers_and_links_every_section(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    text = response.content.decode()
    for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert syntax not in text, f"template syntax {syntax!r} shows on {url}"
    sections = ("/play/", "/explore/", "/leaderboard/", "/rooms/", "/booth/")
    if url == "/booth/":
        # The booth is a kiosk: no way out to the rest of the site.
        assert not any(f'href="{href}"' in text for href in sections[:4])
        return
    for href in sections:
        assert f'href="{href}"' in text


@pytest.mark.django_db
def test_pages_load_htmx_from_our_own_static_files(client):
    text = client.get("/").content.decode()
    assert '<script src="/static/vendor/htmx.min.js"' in text
    assert "https://" not in text.split("<body")[0], "no script or style may come from elsewhere"


GAME_POLICY = {
    "default-src": "'self'",
    "base-uri": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
}


def directives(header: str) -> dict[str, str]:
    """A Content-Security-Policy header as {directive: sources} (django-csp's order varies)."""
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


@pytest.mark.django_db
def test_every_answer_carries_the_content_security_policy_of_our_own_origin(client, game_data):
    """Pages, htmx partials, redirects and errors alike: nothing loads from elsewhere."""
    answers = [client.get(url) for url in CONTRACT_PAGES]
    answers.append(client.post("/play/new/", {"difficulty": "easy"}))
    card = answers[-1]["Location"]
    answers.append(client.get(card, HTTP_HX_REQUEST="true"))
    answers.append(client.post(f"{card}guess/", {"choice": "Fe"}, HTTP_HX_REQUEST="true"))
    answers.append(client.get("/play/r/no-such-round/card/0/"))
    answers.append(client.get("/no-such-page/"))
    answers.append(client.get("/play/new/"))  # the page in place of an empty 405
    assert [answer.status_code for answer in answers[-6:]] == [302, 200, 200, 404, 404, 405]
    for answer in answers:
        assert directives(answer["Content-Security-Policy"]) == GAME_POLICY, answer
        assert "Content-Security-Policy-Report-Only" not in answer


def test_the_policy_built_once_answers_as_django_csp_does_for_decorators_and_nonces(rf):
    """The policy is built once per process, yet django-csp's decorators and nonces still work."""
    from csp.decorators import csp_exempt, csp_update
    from csp.exceptions import CSPNonceError
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    from kascade_game.middleware import ContentSecurityPolicyMiddleware

    def with_nonce(request):
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    views = {
        "plain": lambda request: HttpResponse("plain"),
        "updated": csp_update({"img-src": "https://maps.example"})(lambda r: HttpResponse()),
        "exempt": csp_exempt()(lambda request: HttpResponse()),
        "nonce": with_nonce,
    }
    for name, view in views.items():
        headers = []
        for middleware in (ContentSecurityPolicyMiddleware(view), CSPMiddleware(view)):
            request = rf.get("/")
            response = middleware(request)
            headers.append(response.get("Content-Security-Policy"))
            if name != "nonce":
                with pytest.raises(CSPNonceError):
                    str(request.csp_nonce)  # asked for after the header was written
        ours, theirs = (directives(header) if header else None for header in headers)
        assert ours == theirs, name
        expected = {
            "plain": GAME_POLICY,
            "updated": {**GAME_POLICY, "img-src": "'self' data: https://maps.example"},
            "exempt": None,
            "nonce": GAME_POLICY,  # the game's policy asks for no nonce
        }[name]
        assert ours == expected, name


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ready_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ready"


@pytest.mark.django_db
def test_readyz_names_redis_when_redis_is_down(client):
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis: ConnectionError"]


def _settings_in_subprocess(
    env_overrides: dict[str, str | None], code: str
) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "DJANGO_ENV",
            "SECRET_KEY",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    for key, value in env_overrides.items():
        if value is not None:
            env[key] = value
    env["DJANGO_SETTINGS_MODULE"] = "kascade_game.settings"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


SHOW_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'cache': s.CACHES['default']['BACKEND'], 'debug': s.DEBUG, 'production': s.PRODUCTION}))"
)


def test_postgresql_prepares_repeated_statements_unless_told_not_to():
    show = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"
    )
    url = {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    default = _settings_in_subprocess(url, show)
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout) == {"server_side_binding": True, "prepare_threshold": 5}
    off = _settings_in_subprocess({**url, "DATABASE_PREPARED_STATEMENTS": "false"}, show)
    assert off.returncode == 0, off.stderr
    assert "server_side_binding" not in json.loads(off.stdout)


def test_development_defaults_need_no_services():
    result = _settings_in_subprocess({}, SHOW_SETTINGS)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.sqlite3"
    assert shown["eager"] is True
    assert shown["cache"].endswith("LocMemCache")
    assert shown["production"] is False


def test_configured_services_select_postgresql_and_redis():
    result = _settings_in_subprocess(
        {"DATABASE_URL": "postgres://u@127.0.0.1:5432/x", "REDIS_URL": "redis://127.0.0.1:6379/3"},
        SHOW_SETTINGS,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["engine"] == "django.db.backends.postgresql"
    assert shown["eager"] is False
    assert shown["cache"].endswith("RedisCache")


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "a-long-random-production-key-" + "x7Qp2Lm9Zr4Tb8Wc1Vn6Hk3Jd5Fg0Ys" * 2,
    "ALLOWED_HOSTS": "quiz.example.org",
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/x",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
}


def test_readyz_names_the_database_when_it_is_down():
    result = _settings_in_subprocess(
        {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/closed"},
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code, json.dumps(r.json()))",
    )
    assert result.returncode == 0, result.stderr
    status, _, body = result.stdout.strip().splitlines()[-1].partition(" ")
    assert status == "503"
    assert json.loads(body)["failing"] == ["database: OperationalError"]


def test_production_refuses_to_start_without_a_secret_key():
    result = _settings_in_subprocess({**PRODUCTION_ENV, "SECRET_KEY": None}, SHOW_SETTINGS)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


@pytest.mark.parametrize("name", ["ROOM_JOIN_FAILURE_RATE", "ACCOUNT_FAILURE_RATE", "SIGNUP_RATE"])
@pytest.mark.parametrize("value", ["thirty", "30", "30/0m", "30/w", "0/m"])
def test_a_rate_limit_that_is_not_a_rate_stops_the_start_with_the_reason(name, value):
    result = _settings_in_subprocess({name: value}, SHOW_SETTINGS)
    assert result.returncode != 0
    assert f"{name} must be a rate such as 30/m, 40/h or 5/10m, not {value!r}" in result.stderr


def test_rate_limits_read_from_the_environment_reach_the_settings():
    show = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.ROOM_JOIN_FAILURE_RATE, s.ACCOUNT_FAILURE_RATE, s.SIGNUP_RATE]))"
    )
    default = _settings_in_subprocess({}, show)
    assert json.loads(default.stdout) == ["30/m", "30/m", "40/h"], default.stderr
    rates = {
        "ROOM_JOIN_FAILURE_RATE": "5/10m",
        "ACCOUNT_FAILURE_RATE": "10/m",
        "SIGNUP_RATE": "90/d",
    }
    chosen = _settings_in_subprocess(rates, show)
    assert json.loads(chosen.stdout) == ["5/10m", "10/m", "90/d"], chosen.stderr


def test_production_check_deploy_reports_no_issues():
    result = _settings_in_subprocess(
        PRODUCTION_ENV,
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@embedded_only
def test_tasks_run_in_process_without_redis():
    from kascade_game.celery import ping

    assert ping.delay("in-process").get(timeout=5) == "in-process"


@requires_services
@pytest.mark.django_db(transaction=True)
def test_a_task_round_trips_through_a_real_worker(celery_worker):
    from kascade_game.celery import ping

    assert ping.delay("through-redis").get(timeout=30) == "through-redis"


@pytest.mark.browser
def test_intro_loads_in_chromium_with_no_console_errors_and_nothing_leaving_127_0_0_1(
    page, live_server
):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "Which nucleus hit the atmosphere?"
    page.get_by_role("link", name="Explore", exact=True).first.click()
    page.wait_for_url("**/explore/")
    assert page.evaluate("typeof window.htmx") == "object", "htmx must load from our static files"
    assert page.recorder.console_errors == []
    assert page.recorder.page_errors == []
    assert page.recorder.outside_requests == []


def test_probes_answer_a_pod_ip_over_plain_http_in_production():
    result = _settings_in_subprocess(
        {**PRODUCTION_ENV, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/closed"},
        "import django; django.setup(); from django.test import Client; c = Client(HTTP_HOST='10.1.2.3'); "
        "print(c.get('/healthz').status_code, c.get('/readyz').status_code, c.get('/play/').status_code)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "200 503 400"


def test_the_embedded_mode_runs_a_task_in_process_without_a_broker_warning():
    code = (
        "import django, logging; django.setup(); logging.basicConfig(level=logging.WARNING); "
        "from classify.tasks import finish_batches; "
        "print(finish_batches.delay([], batch_ids=[]).get())"
    )
    result = _settings_in_subprocess({}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    # kombu warned "No hostname was supplied" for a bare memory:// on every first task.
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_no_template_comment_spans_lines():
    # Django's {# #} ends at the line's end: a comment over two lines is printed on the page.
    spread = []
    for template in sorted(ROOT.glob("*/templates/**/*.html")):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            if line.count("{#") != line.count("#}"):
                spread.append(f"{template.relative_to(ROOT)}:{number}")
    assert spread == [], "use {% comment %} for a comment over several lines"
