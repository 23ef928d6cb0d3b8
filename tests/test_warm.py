"""A process that imports the WSGI module (gunicorn's master, before it forks) starts warm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter: the test process has long since compiled and connected.
PROBE = """
import json
import kascade_game.wsgi
from django.db import connections
from django.template import engines
from django.utils.translation import trans_real
from kascade_game import footprint
from kascade_game.warm import project_templates

loader = engines["django"].engine.template_loaders[0]
names = project_templates()
print(json.dumps({
    "templates": names,
    "compiled": sorted(set(names) & set(loader.get_template_cache)),
    "catalogues": sorted(trans_real._translations),
    "geometry": footprint._positions.cache_info().currsize,
    "connections": [alias for alias in connections if connections[alias].connection is not None],
}))
"""


def test_importing_the_wsgi_module_compiles_the_templates_and_reads_the_catalogues_offline():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kascade_game.settings", "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    # Every template of the project's apps, and only those (no Django admin, no venv).
    assert len(probe["templates"]) >= 50
    assert "kascade_game/play/card.html" in probe["templates"]
    assert not any(name.startswith("admin/") for name in probe["templates"])
    assert probe["compiled"] == sorted(probe["templates"])
    assert {"en", "de", "ru"} <= set(probe["catalogues"])
    assert probe["geometry"] == 1
    # A connection made before the fork would be shared by every worker.
    assert probe["connections"] == []


def test_a_template_that_does_not_compile_is_reported_and_the_server_still_starts(
    tmp_path, monkeypatch, settings, caplog
):
    from kascade_game import warm

    (tmp_path / "fine.html").write_text("{% load i18n %}<p>{% translate 'Score' %}</p>")
    (tmp_path / "broken.html").write_text("{% if %}<p>no condition</p>{% endif %}")
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [str(tmp_path)],
            "APP_DIRS": False,
        }
    ]
    monkeypatch.setattr(warm, "project_templates", lambda: ["broken.html", "fine.html"])
    with caplog.at_level("WARNING", logger="kascade_game.warm"):
        warmed = warm.warm_process()
    assert warmed.templates == ["fine.html"]
    assert warmed.broken_templates == ["broken.html"]
    assert "broken.html does not compile" in caplog.text
    assert warmed.languages == ["en", "de", "ru"]
