"""Fetch the front-end libraries listed in tools/vendor.json into vendor/.

The booth must work offline, so every script is served from our own static
files. The libraries come from the npm registry as release tarballs; each is
checked against the registry's sha512 integrity before a file is extracted.
Only the standard library is used, so this runs before the virtualenv exists.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "tools" / "vendor.json"
DESTINATION = ROOT / "vendor"


def _verify_integrity(payload: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(payload).digest()).decode()
    if actual != expected:
        raise SystemExit("integrity mismatch: the downloaded tarball is not the pinned release")


def fetch(package: dict) -> None:
    wanted = package["files"]
    if all((DESTINATION / target).exists() for target in wanted.values()):
        return
    print(f"fetching {package['name']}@{package['version']}", file=sys.stderr)
    with urllib.request.urlopen(package["tarball"], timeout=120) as response:
        payload = response.read()
    _verify_integrity(payload, package["integrity"])
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as archive:
        for member_name, target in wanted.items():
            member = archive.extractfile(member_name)
            if member is None:
                raise SystemExit(f"{member_name} missing from {package['name']}")
            (DESTINATION / target).write_bytes(member.read())


def main() -> None:
    DESTINATION.mkdir(exist_ok=True)
    for package in json.loads(MANIFEST.read_text())["packages"]:
        fetch(package)


if __name__ == "__main__":
    main()
