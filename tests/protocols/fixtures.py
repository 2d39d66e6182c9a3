"""botocore's protocol test fixtures, fetched from the sdist of the installed botocore.

The sdist is downloaded once (with pip, so any configured index works) and
cached under ``$KUMO_TEST_CACHE`` (default ``~/.cache/kumo``); only
``tests/unit/protocols`` is kept.  Nothing of it is committed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import botocore


def cache_root() -> Path:
    return Path(os.environ.get("KUMO_TEST_CACHE", Path.home() / ".cache" / "kumo"))


def fixtures_dir() -> Path:
    version = botocore.__version__
    target = cache_root() / f"botocore-{version}-protocols"
    if (target / "protocol-tests-ignore-list.json").exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        sdist = Path(tmp) / f"botocore-{version}.tar.gz"
        sdist.write_bytes(_download_sdist(version))
        cache_root().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache_root()))
        prefix = f"botocore-{version}/tests/unit/protocols/"
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                if member.name.startswith(prefix) and member.isfile():
                    rel = member.name[len(prefix):]
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src:
                        dest.write_bytes(src.read())
        try:
            os.replace(staging, target)
        except OSError:  # another process got there first
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _index_url() -> str:
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        try:
            out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                                 capture_output=True, text=True, timeout=30)
            url = out.stdout.strip() if out.returncode == 0 else ""
        except Exception:
            url = ""
    return (url or "https://pypi.org/simple").rstrip("/")


def _download_sdist(version: str) -> bytes:
    """Find the sdist on the package index (PEP 503 simple page) and fetch it."""
    import re
    import urllib.parse
    import urllib.request

    page_url = f"{_index_url()}/botocore/"
    with urllib.request.urlopen(page_url, timeout=60) as resp:
        page = resp.read().decode()
    name = f"botocore-{version}.tar.gz"
    for href in re.findall(r'href="([^"]+)"', page):
        if urllib.parse.urlparse(href).path.endswith("/" + name) or href.split("#")[0].endswith(name):
            url = urllib.parse.urljoin(page_url, href.split("#")[0])
            with urllib.request.urlopen(url, timeout=300) as resp:
                return resp.read()
    raise RuntimeError(f"{name} is not on {page_url}")


# Client-only behaviour that a server never sees (issue: skip these beside botocore's own list).
def client_only(case: dict) -> str | None:
    given = case.get("given", {})
    if "endpoint" in given and "hostPrefix" in given["endpoint"]:
        return "host prefix is applied by the client"
    if given.get("requestcompression"):
        return "request compression is a client feature"
    return None


def autofilled(suite: dict, case: dict) -> bool:
    """An input case whose params omit an idempotency token the client fills in."""
    shape_name = case.get("given", {}).get("input", {}).get("shape")
    shape = suite.get("shapes", {}).get(shape_name, {})
    params = case.get("params", {})
    return any(m.get("idempotencyToken") and name not in params for name, m in shape.get("members", {}).items())


def load_cases(kind: str):
    """Yield (protocol, suite, case, skip_reason) for 'input' or 'output'."""
    root = fixtures_dir()
    ignore = json.loads((root / "protocol-tests-ignore-list.json").read_text())
    general = set(ignore.get("general", {}).get(kind, {}).get("suites", []))
    for path in sorted((root / kind).glob("*.json")):
        protocol_file = path.stem
        per_proto = ignore.get("protocols", {}).get(protocol_file, {}).get(kind, {})
        ignored_cases = set(per_proto.get("cases", []))
        ignored_suites = set(per_proto.get("suites", []))
        for suite_id, suite in enumerate(json.loads(path.read_text())):
            for case_id, case in enumerate(suite["cases"]):
                reason = None
                if suite["description"] in general or suite["description"] in ignored_suites:
                    reason = "in botocore's ignore list"
                elif case.get("id") in ignored_cases:
                    reason = "in botocore's ignore list"
                else:
                    reason = client_only(case)
                    if reason is None and kind == "input" and autofilled(suite, case):
                        reason = "idempotency-token autofill is a client feature"
                yield protocol_file, suite, case, f"{protocol_file}:{suite_id}:{case_id}:{case.get('id', '')}", reason
