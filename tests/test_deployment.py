"""Static checks of the deployment: Dockerfile, gunicorn config and k8s/.

No Docker engine and no cluster run here, so these tests read the files: every
manifest must validate against the official Kubernetes schemas (offline, with
kubernetes-validate), and everything an operator relies on (one image, probes,
settings, secrets, resources, non-root pods) must agree across the files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "k8s"
DOCKERFILE = ROOT / "Dockerfile"
SECRET_TEMPLATE = K8S / "secret.template.yaml"
KUSTOMIZATION = K8S / "kustomization.yaml"
APP_IMAGE_REPO = "ghcr.io/kit-kascade/cosmic-quiz"
CONFIGMAP_NAME = "cosmic-quiz-config"
SECRET_NAME = "cosmic-quiz-secrets"
HEALTH_PORT = 8000
# Oldest still-common cluster version and the newest schema the validator ships.
KUBERNETES_VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob", "DaemonSet"}

MANIFEST_FILES = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _resources() -> list[tuple[Path, dict]]:
    return [(path, doc) for path in MANIFEST_FILES for doc in _load(path)]


def _applied_resources() -> list[dict]:
    """What `kubectl apply -k k8s/` creates (the Secret template is not applied)."""
    return [doc for path, doc in _resources() if path != SECRET_TEMPLATE]


def _find(kind: str, name: str) -> dict:
    matches = [
        doc
        for doc in _applied_resources()
        if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"expected exactly one {kind}/{name}, found {len(matches)}"
    return matches[0]


def _pod_spec(workload: dict) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def _workloads() -> list[dict]:
    return [doc for doc in _applied_resources() if doc["kind"] in WORKLOAD_KINDS]


def _containers(pod_spec: dict) -> list[dict]:
    return list(pod_spec.get("initContainers", [])) + list(pod_spec["containers"])


def _all_containers() -> list[tuple[str, dict, dict]]:
    return [
        (f"{w['kind']}/{w['metadata']['name']}/{c['name']}", _pod_spec(w), c)
        for w in _workloads()
        for c in _containers(_pod_spec(w))
    ]


def _app_containers() -> list[tuple[str, dict, dict]]:
    return [item for item in _all_containers() if item[2]["image"].startswith(APP_IMAGE_REPO)]


def _configmap_data() -> dict[str, str]:
    return _find("ConfigMap", CONFIGMAP_NAME)["data"]


def _secret_template() -> dict:
    (secret,) = _load(SECRET_TEMPLATE)
    return secret


def _container_env_names(container: dict) -> set[str]:
    names = {item["name"] for item in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            assert source["configMapRef"]["name"] == CONFIGMAP_NAME
            names |= set(_configmap_data())
        if "secretRef" in source:
            assert source["secretRef"]["name"] == SECRET_NAME
            names |= set(_secret_template()["stringData"])
    return names


def _settings_env_names() -> dict[str, set[str]]:
    """Environment names kascade_game/settings.py reads, by how it reads them."""
    source = (ROOT / "kascade_game" / "settings.py").read_text()
    found: dict[str, set[str]] = {}
    for reader in ("os.environ.get", "_env_bool", "_env_list", "_env_rate", "_required"):
        pattern = re.escape(reader) + r'\(\s*"([A-Z0-9_]+)"'
        found[reader] = set(re.findall(pattern, source))
    return found


def _production_required_env() -> set[str]:
    names = _settings_env_names()
    return names["_required"] | {"DJANGO_ENV", "ALLOWED_HOSTS"}


def _gunicorn_conf_env_names() -> set[str]:
    source = (ROOT / "gunicorn.conf.py").read_text()
    return set(re.findall(r'(?:os\.environ\.get|_env_int)\(\s*"([A-Z0-9_]+)"', source)) | set(
        re.findall(r"_env_int\(\s*'([A-Z0-9_]+)'", source)
    )


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined; heredoc bodies skipped."""
    instructions: list[tuple[str, str]] = []
    lines = DOCKERFILE.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            line = line[:-1] + " " + lines[i].strip()
            i += 1
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        heredoc = re.search(r"<<-?'?(\w+)'?", arguments)
        if heredoc:
            end = heredoc.group(1)
            while i < len(lines) and lines[i].strip() != end:
                i += 1
            i += 1
    return instructions


def _dockerfile_heredoc(target: str) -> str:
    text = DOCKERFILE.read_text()
    match = re.search(r"^COPY <<'(\w+)' " + re.escape(target) + r"\n(.*?)^\1$", text, re.M | re.S)
    assert match, f"no heredoc for {target} in the Dockerfile"
    return match.group(2)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- Kubernetes manifests -----------------------------------------------------


@pytest.mark.parametrize("path", MANIFEST_FILES + [KUSTOMIZATION], ids=lambda p: p.name)
def test_every_manifest_parses_as_yaml(path):
    documents = _load(path)
    assert documents, f"{path.name} holds no document"
    for doc in documents:
        assert {"apiVersion", "kind"} <= set(doc), f"{path.name}: apiVersion/kind missing"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: p.name)
def test_every_manifest_validates_against_the_kubernetes_schemas(path, version):
    for doc in _load(path):
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{path.name} {doc['kind']}/{doc['metadata']['name']}: {error.message}")


def test_kustomization_applies_every_manifest_except_the_secret_template():
    kustomization = _load(KUSTOMIZATION)[0]
    listed = kustomization["resources"]
    assert len(listed) == len(set(listed)), "a resource is listed twice"
    for name in listed:
        assert (K8S / name).is_file(), f"kustomization lists missing file {name}"
    expected = {p.name for p in MANIFEST_FILES} - {SECRET_TEMPLATE.name}
    assert set(listed) == expected
    # Applying the template would overwrite the real Secret with placeholders.
    assert SECRET_TEMPLATE.name not in listed


def test_everything_lands_in_the_game_namespace():
    kustomization = _load(KUSTOMIZATION)[0]
    (namespace,) = [doc for doc in _applied_resources() if doc["kind"] == "Namespace"]
    assert kustomization["namespace"] == namespace["metadata"]["name"] == "cosmic-quiz"
    assert _secret_template()["metadata"]["namespace"] == "cosmic-quiz"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_one_validated_bundle_with_the_pinned_image():
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60
    )
    assert rendered.returncode == 0, rendered.stderr
    documents = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert len(documents) == len(_applied_resources())
    tag = _load(KUSTOMIZATION)[0]["images"][0]["newTag"]
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "cosmic-quiz"
    images = {
        c["image"]
        for doc in documents
        if doc["kind"] in WORKLOAD_KINDS
        for c in _containers(_pod_spec(doc))
    }
    assert f"{APP_IMAGE_REPO}:{tag}" in images


def test_web_worker_and_job_run_one_image_name_and_tag():
    kustomization = _load(KUSTOMIZATION)[0]
    (image,) = kustomization["images"]
    assert image["name"] == APP_IMAGE_REPO
    expected = f"{APP_IMAGE_REPO}:{image['newTag']}"
    app = _app_containers()
    assert {c["image"] for _, _, c in app} == {expected}
    workloads = {name.split("/")[1] for name, _, _ in app}
    assert workloads == {"cosmic-quiz-web", "cosmic-quiz-worker", "cosmic-quiz-setup"}


def test_third_party_images_are_pinned_to_a_version():
    images = {c["image"] for _, _, c in _all_containers()}
    for image in images:
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{image} is not pinned"
        assert re.match(r"\d+\.\d+", tag), f"{image}: tag {tag} is not a version"
    assert any(re.fullmatch(r"redis:7\.\d+\.\d+(-\w+)?", image) for image in images)
    assert any(re.fullmatch(r"postgres:16\.\d+(-\w+)?", image) for image in images)


def _port_number(container: dict, port) -> int:
    if isinstance(port, int):
        return port
    (match,) = [p for p in container["ports"] if p["name"] == port]
    return match["containerPort"]


def test_web_runs_at_least_two_replicas_with_probes_on_healthz_and_readyz():
    web = _find("Deployment", "cosmic-quiz-web")
    assert web["spec"]["replicas"] >= 2
    (container,) = _pod_spec(web)["containers"]
    assert _port_number(container, "http") == HEALTH_PORT
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"
    for probe in (readiness, liveness, container["startupProbe"]["httpGet"]):
        assert _port_number(container, probe["port"]) == HEALTH_PORT
    urls = (ROOT / "kascade_game" / "urls.py").read_text()
    assert 'path("healthz"' in urls and 'path("readyz"' in urls


def test_probes_send_a_host_that_django_accepts_and_the_ingress_serves():
    allowed = [h.strip() for h in _configmap_data()["ALLOWED_HOSTS"].split(",")]
    ingress = _find("Ingress", "cosmic-quiz")
    ingress_hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    tls_hosts = {host for entry in ingress["spec"]["tls"] for host in entry["hosts"]}
    assert ingress_hosts == tls_hosts, "every public host needs a TLS certificate"
    assert ingress_hosts <= set(allowed)
    (container,) = _pod_spec(_find("Deployment", "cosmic-quiz-web"))["containers"]
    for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
        headers = {
            h["name"].lower(): h["value"] for h in container[probe_name]["httpGet"]["httpHeaders"]
        }
        assert headers["host"] in allowed, f"{probe_name} would get 400 DisallowedHost"


def test_services_and_ingress_route_to_existing_pods_and_ports():
    pods = {
        w["metadata"]["name"]: (w["spec"]["template"]["metadata"]["labels"], _pod_spec(w))
        for w in _workloads()
        if w["kind"] in {"Deployment", "StatefulSet"}
    }
    services = [doc for doc in _applied_resources() if doc["kind"] == "Service"]
    for service in services:
        selector = service["spec"]["selector"]
        targets = [spec for labels, spec in pods.values() if selector.items() <= labels.items()]
        assert len(targets) == 1, f"Service {service['metadata']['name']} selects {len(targets)}"
        ports = {p["name"] for c in targets[0]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports
    service_names = {s["metadata"]["name"]: s for s in services}
    for rule in _find("Ingress", "cosmic-quiz")["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = service_names[backend["name"]]
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    config = _configmap_data()
    assert "redis:6379" in config["REDIS_URL"]
    assert service_names["redis"]["spec"]["ports"][0]["port"] == 6379
    assert "@postgres:5432/" in _secret_template()["stringData"]["DATABASE_URL"]
    # The web pods sit behind one proxy, the ingress controller: the rate limits
    # count the address it passed on (kascade_game/addresses.py), not its own.
    assert config["TRUSTED_PROXIES"] == "1"


def test_web_worker_and_job_get_every_setting_production_requires():
    required = _production_required_env()
    assert {"DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= required
    assert _configmap_data()["DJANGO_ENV"] == "production"
    for name, _, container in _app_containers():
        missing = required - _container_env_names(container)
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_every_referenced_configmap_and_secret_key_exists():
    config = set(_configmap_data())
    secret = set(_secret_template()["stringData"])
    for name, _, container in _all_containers():
        for item in container.get("env", []):
            source = item.get("valueFrom", {})
            if "secretKeyRef" in source:
                assert source["secretKeyRef"]["name"] == SECRET_NAME
                assert source["secretKeyRef"]["key"] in secret, f"{name}: {item['name']}"
            if "configMapKeyRef" in source:
                assert source["configMapKeyRef"]["name"] == CONFIGMAP_NAME
                assert source["configMapKeyRef"]["key"] in config, f"{name}: {item['name']}"


def test_every_configmap_key_is_a_setting_the_application_reads():
    """A misspelt key would be silently ignored in production."""
    read = set().union(*_settings_env_names().values()) | _gunicorn_conf_env_names()
    unknown = set(_configmap_data()) - read
    assert not unknown, f"ConfigMap keys nobody reads: {sorted(unknown)}"
    secret_for_app = {"SECRET_KEY", "DATABASE_URL"}
    assert secret_for_app <= read


def test_secret_template_holds_placeholders_only():
    secret = _secret_template()
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == SECRET_NAME
    assert "data" not in secret, "base64 data would hide real values; use stringData"
    for key, value in secret["stringData"].items():
        assert "REPLACE-ME" in value, f"{key} does not look like a placeholder"
        assert len(value.replace("REPLACE-ME", "")) < 60, f"{key} carries more than a placeholder"
    text = SECRET_TEMPLATE.read_text()
    assert "TEMPLATE" in text and "docs/deploy.md" in text


def test_every_container_has_resource_requests_and_limits():
    for name, _, container in _all_containers():
        resources = container.get("resources", {})
        for section in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources.get(section, {})), f"{name}: {section}"


def test_every_container_runs_as_non_root_without_privileges():
    for name, pod, container in _all_containers():
        pod_context = pod.get("securityContext", {})
        context = container.get("securityContext", {})
        run_as_non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        run_as_user = context.get("runAsUser", pod_context.get("runAsUser"))
        assert run_as_non_root is True, name
        assert isinstance(run_as_user, int) and run_as_user > 0, name
        assert context.get("allowPrivilegeEscalation") is False, name
        assert context.get("capabilities", {}).get("drop") == ["ALL"], name
        assert context.get("readOnlyRootFilesystem") is True, name
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", name
    for name, pod, _ in _app_containers():
        assert pod["securityContext"]["runAsUser"] == _dockerfile_uid(), name
        assert pod["automountServiceAccountToken"] is False, name


def test_app_containers_have_a_writable_tmp_on_a_read_only_root():
    for name, pod, container in _app_containers():
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert "/tmp" in mounts, name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], name


def test_worker_runs_celery_and_is_restarted_when_it_stops_answering():
    worker = _find("Deployment", "cosmic-quiz-worker")
    (container,) = _pod_spec(worker)["containers"]
    assert " ".join(container["command"]) == (
        "celery -A kascade_game worker --loglevel=INFO --concurrency=2"
    )
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert "inspect ping" in probe and "celery@$HOSTNAME" in probe


def test_setup_job_migrates_then_builds_default_data():
    job = _find("Job", "cosmic-quiz-setup")
    (container,) = _pod_spec(job)["containers"]
    command = " ".join(container["command"])
    assert "python manage.py migrate --noinput && python manage.py setup_defaults" in command
    assert _pod_spec(job)["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"]["backoffLimit"] >= 1
    # New web and worker pods wait for the Job's migrations.
    for name in ("cosmic-quiz-web", "cosmic-quiz-worker"):
        init = _pod_spec(_find("Deployment", name))["initContainers"]
        assert any("migrate --check" in " ".join(c["command"]) for c in init), name


def test_postgres_keeps_its_data_on_a_volume_claim_behind_a_headless_service():
    postgres = _find("StatefulSet", "postgres")
    claims = postgres["spec"]["volumeClaimTemplates"]
    (container,) = _pod_spec(postgres)["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert claims[0]["metadata"]["name"] in mounts
    assert container["env"][-1] == {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}
    service = _find("Service", "postgres")
    assert service["spec"]["clusterIP"] == "None"
    assert postgres["spec"]["serviceName"] == "postgres"
    assert "managed database" in (K8S / "postgres.yaml").read_text().lower()


def test_redis_keeps_nothing_on_disk():
    redis = _find("Deployment", "redis")
    (container,) = _pod_spec(redis)["containers"]
    args = container["args"]
    assert args[args.index("--save") + 1] == ""
    assert args[args.index("--appendonly") + 1] == "no"
    # The Celery queues have no TTL, so they are never the ones evicted.
    assert args[args.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert not any("persistentVolumeClaim" in v for v in _pod_spec(redis)["volumes"])


def test_web_and_workers_autoscale_and_survive_node_drains():
    hpas = {
        doc["spec"]["scaleTargetRef"]["name"]: doc
        for doc in _applied_resources()
        if doc["kind"] == "HorizontalPodAutoscaler"
    }
    assert set(hpas) == {"cosmic-quiz-web", "cosmic-quiz-worker"}
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        target = _find(hpa["spec"]["scaleTargetRef"]["kind"], name)
        assert (
            hpa["spec"]["minReplicas"] <= target["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
        )
    assert hpas["cosmic-quiz-web"]["spec"]["minReplicas"] >= 2
    pdbs = [doc for doc in _applied_resources() if doc["kind"] == "PodDisruptionBudget"]
    covered = set()
    for pdb in pdbs:
        selector = pdb["spec"]["selector"]["matchLabels"]
        for workload in _workloads():
            labels = workload["spec"]["template"]["metadata"]["labels"]
            if selector.items() <= labels.items():
                covered.add(workload["metadata"]["name"])
    assert {"cosmic-quiz-web", "cosmic-quiz-worker"} <= covered


def test_manifests_configure_a_production_mode_that_passes_check_deploy():
    """The ConfigMap plus a real-looking Secret give `check --deploy` nothing to report."""
    # Only what a pod gets: the ConfigMap and the Secret (plus PATH and HOME).
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(_configmap_data())
    env["SECRET_KEY"] = secrets.token_urlsafe(64)
    env["DATABASE_URL"] = _secret_template()["stringData"]["DATABASE_URL"].replace(
        "REPLACE-ME", "pw"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --- Dockerfile -------------------------------------------------------------------


def _dockerfile_uid() -> int:
    users = [args for keyword, args in _dockerfile_instructions() if keyword == "USER"]
    return int(users[-1].split(":")[0])


def test_dockerfile_builds_in_stages_from_a_pinned_slim_python():
    instructions = _dockerfile_instructions()
    froms = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(froms) >= 2
    stages: set[str] = set()
    for args in froms:
        image, *rest = args.split()
        if image not in stages:
            assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", image)
        if rest:
            assert rest[0].upper() == "AS"
            stages.add(rest[1])
    assert "latest" not in " ".join(froms)


def test_dockerfile_runs_as_a_numeric_non_root_user_before_cmd():
    keywords = [keyword for keyword, _ in _dockerfile_instructions()]
    last_from = len(keywords) - 1 - keywords[::-1].index("FROM")
    final_stage = keywords[last_from:]
    assert "USER" in final_stage and "CMD" in final_stage
    assert final_stage.index("USER") < final_stage.index("CMD")
    assert _dockerfile_uid() >= 1000


def test_dockerfile_serves_gunicorn_with_the_config_file_on_port_8000():
    last = dict(_dockerfile_instructions())  # the final stage's CMD and EXPOSE
    cmd = json.loads(last["CMD"])
    assert cmd == ["gunicorn", "kascade_game.wsgi:application", "-c", "gunicorn.conf.py"]
    assert last["EXPOSE"] == str(HEALTH_PORT)
    env_lines = [a for k, a in _dockerfile_instructions() if k == "ENV"]
    assert any("DJANGO_ENV=production" in line for line in env_lines)
    assert (ROOT / "gunicorn.conf.py").is_file()


def test_dockerfile_healthcheck_hits_healthz_with_an_allowed_host():
    (healthcheck,) = [a for k, a in _dockerfile_instructions() if k == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    assert "ALLOWED_HOSTS" in healthcheck and "Host" in healthcheck
    assert "curl" not in healthcheck and "wget" not in healthcheck
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    compile(command[2], "<healthcheck>", "exec")


def test_dockerfile_bakes_forests_and_static_files_without_baking_secrets():
    instructions = _dockerfile_instructions()
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert "manage.py train_forests --no-precompute" in runs
    # Everything the app would otherwise write into models/ on first use.
    assert "ensure_reference()" in runs
    assert "DATABASE_URL=sqlite:////tmp/build.sqlite3" in runs
    assert re.search(r"DJANGO_ENV=production .*collectstatic --noinput", runs)
    assert "tools/fetch_vendor.py" in runs
    assert "--require-hashes" in runs
    secretish = re.compile(r"SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL", re.I)
    for keyword, args in instructions:
        if keyword in {"ENV", "ARG"}:
            assert not secretish.search(args), f"{keyword} {args} would be kept in the image"
    for value in re.findall(r"SECRET_KEY=(\S+)", runs):
        assert "throwaway" in value


def test_dockerfile_installs_only_runtime_dependencies_from_the_lock(tmp_path):
    namespace: dict = {}
    exec(compile(_dockerfile_heredoc("/build/runtime_lock.py"), "runtime_lock", "exec"), namespace)
    runtime = namespace["runtime_lock"]((ROOT / "requirements.lock").read_text())
    kept = {
        _norm(re.match(r"([A-Za-z0-9._-]+)", line).group(1))
        for line in runtime.splitlines()
        if line and not line.startswith(" ")
    }
    assert all("--hash=sha256:" in block for block in runtime.split("==")[1:])
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime_roots = {Requirement(r) for r in pyproject["project"]["dependencies"]}
    assert {_norm(r.name) for r in runtime_roots} <= kept
    dev_only = {_norm(Requirement(r).name) for r in pyproject["dependency-groups"]["dev"]}
    assert not (dev_only & kept), f"dev tools in the image: {sorted(dev_only & kept)}"
    # Closed under the installed packages' own requirements (as `pip check` will verify).
    extras = {_norm(r.name): r.extras for r in runtime_roots}
    for name in kept:
        for spec in metadata.requires(name) or []:
            requirement = Requirement(spec)
            wanted = extras.get(name, set())
            applies = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (wanted or {""})
            )
            if applies:
                assert _norm(requirement.name) in kept, f"{name} needs {requirement.name}"


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in (".git", ".venv", "var", "vendor", "staticfiles", "models/*.joblib", ".env"):
        assert required in patterns, f".dockerignore lacks {required}"


# --- gunicorn ---------------------------------------------------------------------


def _load_gunicorn_conf(monkeypatch, tmp_path, env: dict[str, str], cpu_max: str | None):
    for name in ("WEB_CONCURRENCY", "WEB_MAX_WORKERS", "PORT", "GUNICORN_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cpu_file = tmp_path / "cpu.max"
    if cpu_max is not None:
        cpu_file.write_text(cpu_max)
    monkeypatch.setattr(module, "CGROUP_V2_CPU_MAX", cpu_file)
    monkeypatch.setattr(module, "CGROUP_V1_QUOTA", tmp_path / "missing")
    return module


def test_gunicorn_sizes_workers_from_the_cpu_limit(monkeypatch, tmp_path):
    conf = _load_gunicorn_conf(monkeypatch, tmp_path, {}, None)
    assert conf.workers == conf.default_workers() >= 3
    monkeypatch.setattr(conf.os, "sched_getaffinity", lambda pid: set(range(64)))
    (tmp_path / "cpu.max").write_text("150000 100000\n")  # a 1.5-CPU limit on a big node
    assert conf.cpu_count() == 2
    assert conf.default_workers() == 5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert conf.default_workers() == 8  # unlimited: capped by WEB_MAX_WORKERS


@pytest.mark.parametrize(
    ("headers", "client"), [([("X-FORWARDED-FOR", "203.0.113.7")], "203.0.113.7"), ([], "-")]
)
def test_the_access_log_names_the_client_behind_the_ingress(monkeypatch, tmp_path, headers, client):
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = _load_gunicorn_conf(monkeypatch, tmp_path, {}, None)
    environ = {
        "REMOTE_ADDR": "10.244.0.17",
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/play/",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    request = SimpleNamespace(headers=headers)
    response = SimpleNamespace(status="200 OK", headers=[], sent=512)
    logger = Logger(Config())
    # As Logger.access formats a line: a missing header prints "-".
    atoms = logger.atoms_wrapper_class(
        logger.atoms(response, request, environ, timedelta(milliseconds=3))
    )
    line = conf.access_log_format % atoms
    assert line == f'10.244.0.17 {client} "GET /play/ HTTP/1.1" 200 512 3ms "-" "-"'


def test_gunicorn_settings_follow_the_environment(monkeypatch, tmp_path):
    conf = _load_gunicorn_conf(
        monkeypatch, tmp_path, {"WEB_CONCURRENCY": "7", "PORT": "9000"}, "max 100000"
    )
    assert conf.workers == 7
    assert conf.bind == "0.0.0.0:9000"
    assert conf.accesslog == "-" and conf.errorlog == "-"
    assert conf.worker_tmp_dir in {"/dev/shm", "/tmp"}
    assert 0 < conf.graceful_timeout <= conf.timeout
    assert conf.control_socket_disable is True
    web = _find("Deployment", "cosmic-quiz-web")
    assert conf.graceful_timeout + 5 < _pod_spec(web)["terminationGracePeriodSeconds"]


def test_gunicorn_freezes_the_preloaded_objects_before_forking_a_worker(monkeypatch, tmp_path):
    import gc

    from gunicorn.config import Config

    conf = _load_gunicorn_conf(monkeypatch, tmp_path, {}, None)
    config = Config()
    config.set("pre_fork", conf.pre_fork)  # gunicorn accepts it as its pre_fork hook
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        config.pre_fork(None, None)
        # The objects are out of every collection in the forked worker.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


# --- docs ---------------------------------------------------------------------------


def test_deploy_guide_covers_the_operator_tasks_and_its_manifests_validate():
    guide = (ROOT / "docs" / "deploy.md").read_text()
    for topic in (
        "docker build",
        "kubectl apply -k k8s/",
        "secret",
        "Scaling",
        "Backup",
        "SECRET_KEY",
        "Upgrading the forests",
        "baked",
    ):
        assert topic.lower() in guide.lower(), f"docs/deploy.md does not cover {topic}"
    snippets = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    assert snippets
    for snippet in snippets:
        for doc in yaml.safe_load_all(snippet):
            if doc and "apiVersion" in doc and "kind" in doc:
                kubernetes_validate.validate(doc, KUBERNETES_VERSIONS[-1], strict=True)
