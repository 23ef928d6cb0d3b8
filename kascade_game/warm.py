"""Fill a process's lazy caches before it serves: templates, catalogues, tables.

Called from `kascade_game/wsgi.py`, so under gunicorn it runs once in the
master, which then forks the workers (`preload_app`; `gunicorn.conf.py`
freezes what it made, so the workers share it copy-on-write). Without it
every worker, and every worker restarted after its `max_requests`, compiles
the templates, reads the translation catalogues and builds the footprint's
geometry on its first requests, and the players who made them wait. Measured
with one worker restarting every 60 requests, median server time: a worker's
first `GET /play/` 12–30 ms cold, 9–15 ms warm; its later ones (other
languages, other includes) 8 ms cold, 4 ms warm (docs/benchmarks.md, Load,
2026-12-03). The first request that needs the database still opens the
worker's connection.

Nothing here opens a database or Redis connection: a connection made before
the fork would be shared by every worker.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.utils import formats, translation

logger = logging.getLogger(__name__)


@dataclass
class Warmed:
    templates: list[str] = field(default_factory=list)
    broken_templates: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    seconds: float = 0.0


def project_templates() -> list[str]:
    """The names of every template in this project's own apps (not Django's, not the admin's)."""
    root = Path(settings.BASE_DIR).resolve()
    environment = Path(sys.prefix).resolve()  # a virtual environment may lie inside the project
    names = []
    for app in apps.get_app_configs():
        directory = Path(app.path).resolve() / "templates"
        if root not in directory.parents or environment in directory.parents:
            continue
        if not directory.is_dir():
            continue
        names += sorted(
            path.relative_to(directory).as_posix()
            for path in directory.rglob("*")
            if path.is_file()
        )
    return names


def warm_process() -> Warmed:
    started = time.perf_counter()
    warmed = Warmed()
    engine = engines["django"]
    for name in project_templates():
        try:
            engine.get_template(name)  # compiled once, kept by the cached loader
        except TemplateSyntaxError as error:
            # It fails the same way when a request renders it; the server still starts.
            warmed.broken_templates.append(name)
            logger.warning("template %s does not compile: %s", name, error)
        else:
            warmed.templates.append(name)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # activating a language reads its catalogues
            for setting in formats.FORMAT_SETTINGS:
                formats.get_format(setting, lang=code)
        warmed.languages.append(code)
    _warm_tables()
    warmed.seconds = time.perf_counter() - started
    logger.info(
        "warmed %d templates and %d languages in %.0f ms",
        len(warmed.templates),
        len(warmed.languages),
        warmed.seconds * 1000,
    )
    return warmed


def _warm_tables() -> None:
    """The process-wide tables the game builds on first use, from code and files only."""
    from classify.reference import reference_path, shower_reference
    from kascade_game import footprint
    from leaderboard import nicknames

    footprint.warm()
    nicknames.warm()
    if reference_path().exists():  # read, never built here: the image's file system is read-only
        shower_reference()
