# syntax=docker/dockerfile:1.7
# KASCADE Cosmic Quiz: the production image (web with gunicorn, Celery workers
# and the set-up Job all run it). Build and deploy: docs/deploy.md.
#
#   docker build -t ghcr.io/kit-kascade/cosmic-quiz:0.1.0 .
#
# Stages: base -> deps (locked runtime dependencies in /opt/venv)
#                 vendor (front-end libraries from the npm registry)
#         deps -> build (source, trained forests, collected static files)
#         base -> runtime (venv + /app, non-root, no compilers, no secrets)
#
# No secret is baked in: the only SECRET_KEY values below are throwaway
# build-only strings given inline on a RUN line (never ENV or ARG); the real
# SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS come at run time.

FROM python:3.11.14-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
WORKDIR /app


# --- locked runtime dependencies --------------------------------------------
# requirements.lock pins every package with hashes, dev tools included (pytest,
# playwright, ruff, ...). The filter keeps the packages the project's runtime
# dependencies need (following the lock's "# via" annotations, so it needs no
# index) and pip installs exactly those, hash-checked, without resolving.
FROM base AS deps
COPY requirements.lock /build/requirements.lock
COPY <<'PY' /build/runtime_lock.py
"""Write the runtime subset of a uv-generated lock (drop the dev group)."""
import re
import sys

ROOT_RUNTIME = "kascade-cosmic-quiz (pyproject.toml)"
REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==")


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_lock(text):
    blocks, parents, current = {}, {}, None
    in_via = False
    for line in text.splitlines():
        match = REQ.match(line)
        if match:
            current = norm(match.group(1))
            blocks[current], parents[current], in_via = [line], set(), False
            continue
        stripped = line.strip()
        if current is None:
            continue
        if stripped.startswith("--hash=") or (stripped and not stripped.startswith("#")):
            blocks[current].append(line)
        elif stripped.startswith("# via"):
            rest = stripped[len("# via"):].strip()
            in_via = not rest
            if rest:
                parents[current].add(rest)
        elif in_via and stripped.startswith("#   "):
            parents[current].add(stripped[4:].strip())
        else:
            in_via = False
    keep = set()
    changed = True
    while changed:
        changed = False
        for name, via in parents.items():
            if name in keep:
                continue
            if ROOT_RUNTIME in via or any(norm(parent) in keep for parent in via):
                keep.add(name)
                changed = True
    return "\n".join(line for name in blocks if name in keep for line in blocks[name]) + "\n"


if __name__ == "__main__":
    source, target = sys.argv[1:3]
    with open(source) as handle:
        result = runtime_lock(handle.read())
    with open(target, "w") as handle:
        handle.write(result)
PY
RUN /usr/local/bin/python /build/runtime_lock.py /build/requirements.lock /build/runtime.lock \
 && /usr/local/bin/python -m venv /opt/venv \
 && /opt/venv/bin/pip install --require-hashes --no-deps -r /build/runtime.lock \
 && /opt/venv/bin/pip check


# --- front-end libraries (htmx, plotly.js, axe-core) -------------------------
# Standard library only; each tarball is checked against its sha512 integrity.
FROM base AS vendor
WORKDIR /src
COPY tools/ tools/
RUN python3 tools/fetch_vendor.py


# --- source, trained forests, static files ------------------------------------
FROM deps AS build
COPY . /app
COPY --from=vendor /src/vendor /app/vendor
# The forests are baked into the image: train_forests simulates its training
# sets deterministically from fixed seeds, so the same source gives the same
# models/, and every web and worker pod has them without a shared volume.
# The average-shower reference (models/shower_reference.json, also seeded) is
# built here too: at run time models/ is read-only.
# The SQLite database is a scratch file that is not kept; PostgreSQL gets the
# default datasets and predictions from the set-up Job (k8s/job-setup.yaml),
# so nothing is precomputed here (--no-precompute).
RUN export KASCADE_VAR_DIR=/tmp/build-var SECRET_KEY=build-only-throwaway-not-a-secret \
           DATABASE_URL=sqlite:////tmp/build.sqlite3 \
 && python manage.py migrate --noinput \
 && python manage.py train_forests --no-precompute \
 && python manage.py shell -c "from classify.reference import ensure_reference; ensure_reference()" \
 && rm -rf /tmp/build.sqlite3 /tmp/build-var /app/var
# Collect static files in production mode so whitenoise's compressed manifest
# exists. Production settings insist on these variables; the values are
# throwaway placeholders for this one command and are not kept in the image.
RUN DJANGO_ENV=production SECRET_KEY=build-only-throwaway-not-a-secret \
    ALLOWED_HOSTS=build.invalid DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://build.invalid:6379/0 \
    python manage.py collectstatic --noinput \
 && rm -rf /tmp/collectstatic.sqlite3 /app/var \
 && python -m compileall -q /app


# --- the image that runs ------------------------------------------------------
FROM base AS runtime
LABEL org.opencontainers.image.title="KASCADE Cosmic Quiz" \
      org.opencontainers.image.description="Guess the primary of KASCADE air showers against three hadronic-model random forests" \
      org.opencontainers.image.source="https://github.com/kit-kascade/cosmic-quiz"
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
            --shell /usr/sbin/nologin app
COPY --from=deps /opt/venv /opt/venv
# Code, models and static files stay owned by root: the app user reads them
# and cannot change them. It writes only to /tmp (an emptyDir in Kubernetes).
COPY --from=build /app /app
ENV DJANGO_ENV=production \
    PORT=8000 \
    HOME=/tmp
USER 10001:10001
EXPOSE 8000
# /healthz answers while the process lives. Django validates the Host header,
# so the check sends the first ALLOWED_HOSTS entry (the probe comes from inside).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('*.') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': h}), timeout=4)"]
CMD ["gunicorn", "kascade_game.wsgi:application", "-c", "gunicorn.conf.py"]
