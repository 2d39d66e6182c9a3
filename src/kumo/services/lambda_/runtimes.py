"""Lambda runtimes and how kumo runs each on this host.

A function's Runtime decides the command of its environments:

* ``python3.x``: the host's interpreter of that exact version running kumo's
  runtime client (``runtimes/python/bootstrap.py``);
* ``nodejsNN.x``: the host's ``node`` of that major version running
  ``runtimes/nodejs/bootstrap.js``;
* ``java8.al2``, ``java11``, ``java17``, ``java21`` ...: the host's ``java`` of that
  major version running ``runtimes/java/KumoJavaRuntime.java``, which kumo
  compiles with that JDK's ``javac`` once (kept in ~/.cache/kumo);
* ``provided``, ``provided.al2``, ``provided.al2023``: the function's own
  ``bootstrap`` (in the code, else in a layer at /opt/bootstrap), which talks
  to the Runtime API itself (Go, Rust, shell ... any custom runtime).

Interpreters are found on PATH, in pyenv's versions directory and in the
usual prefixes, or named explicitly with ``KUMO_LAMBDA_<RUNTIME>``
(``KUMO_LAMBDA_PYTHON3_12=/opt/py312/bin/python3.12``).  Runtimes AWS no
longer lets you create functions with are refused as AWS refuses them; a
runtime the model lists but this host cannot run (no such interpreter, or one
kumo has no runtime client for) leaves the function Failed with
StateReasonCode InvalidRuntime.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

# Runtimes AWS refuses for CreateFunction/UpdateFunctionConfiguration (deprecated, "block function create").
BLOCKED = {
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
    "nodejs16.x", "java8", "python2.7", "python3.6", "python3.7", "python3.8", "dotnetcore1.0", "dotnetcore2.0",
    "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "go1.x", "ruby2.5", "ruby2.7", "provided",
}
CUSTOM = {"provided", "provided.al2", "provided.al2023"}
_PYTHON = re.compile(r"^python(3)\.(\d+)$")
_NODE = re.compile(r"^nodejs(\d+)\.x$")
_JAVA = re.compile(r"^java(\d+)(?:\.al2)?$")
JAVA_CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtimes", "java", "KumoJavaRuntime.java")


def blocked_message(runtime: str) -> str:
    return (f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            "functions. We recommend you use a supported runtime while creating or updating functions.")


@dataclass
class Launch:
    """How to start a runtime of one kind; paths are resolved per environment by ``argv``."""

    runtime: str
    family: str  # python | nodejs | provided
    program: str | None  # interpreter on the host (None for custom runtimes)
    version_label: str  # for AWS_EXECUTION_ENV
    address_space_limit: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)
    client_dir: str | None = None  # compiled runtime client (Java)

    def argv(self, runtime_dir: str, task_root: str, opt_dir: str, memory_mb: int, bootstrap: str | None) -> list[str]:
        if self.family == "python":
            return [self.program, "-s", f"{runtime_dir}/python/bootstrap.py", opt_dir]
        if self.family == "nodejs":
            heap = max(32, int(memory_mb * 0.9))
            return [self.program, f"--max-old-space-size={heap}", f"{runtime_dir}/nodejs/bootstrap.js", opt_dir]
        if self.family == "java":
            classpath = ":".join([self.client_dir, task_root, f"{task_root}/lib/*", f"{opt_dir}/java/lib/*"])
            # AWS's Java runtimes start with tiered compilation stopped at C1: the fastest start.
            return [self.program, "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    f"-XX:MaxRAM={memory_mb}m", "-XX:MaxRAMPercentage=60", "-cp", classpath, "KumoJavaRuntime"]
        return [bootstrap or f"{task_root}/bootstrap"]

    def environment(self, task_root: str, opt_dir: str, runtime_dir: str) -> dict[str, str]:
        env = {"AWS_EXECUTION_ENV": f"AWS_Lambda_{self.runtime}"} if self.family != "provided" else {}
        if self.family == "nodejs":
            major = self.version_label
            env["NODE_PATH"] = ":".join([f"{opt_dir}/nodejs/node{major}/node_modules", f"{opt_dir}/nodejs/node_modules",
                                         f"{runtime_dir}/node_modules", runtime_dir, task_root])
        return env


class Unavailable(Exception):
    """This host cannot run the runtime; the message is the function's StateReason."""


def resolve(runtime: str) -> Launch:
    override = os.environ.get("KUMO_LAMBDA_" + re.sub(r"[^A-Za-z0-9]", "_", runtime).upper())
    if runtime in CUSTOM:
        return Launch(runtime, "provided", None, runtime)
    m = _PYTHON.match(runtime)
    if m:
        want = (int(m.group(1)), int(m.group(2)))
        program = override or find_python(want)
        if not program:
            raise Unavailable(f"The runtime {runtime} needs Python {want[0]}.{want[1]}, which kumo did not find on "
                              f"this host (set KUMO_LAMBDA_{runtime.replace('.', '_').upper()} to its path).")
        return Launch(runtime, "python", program, f"{want[0]}.{want[1]}")
    m = _JAVA.match(runtime)
    if m:
        major = int(m.group(1))
        program = override or find_java(major)
        if not program:
            raise Unavailable(f"The runtime {runtime} needs Java {major}, which kumo did not find on this host "
                              f"(set KUMO_LAMBDA_{runtime.replace('.', '_').upper()} to its java).")
        client = java_client(program)
        if client is None:
            raise Unavailable(f"The runtime {runtime} needs a JDK's javac beside {program} to build kumo's Java "
                              "runtime client once.")
        return Launch(runtime, "java", program, str(major), address_space_limit=False, client_dir=client)
    m = _NODE.match(runtime)
    if m:
        major = int(m.group(1))
        program = override or find_node(major)
        if not program:
            raise Unavailable(f"The runtime {runtime} needs Node.js {major}, which kumo did not find on this host "
                              f"(set KUMO_LAMBDA_{runtime.replace('.', '_').upper()} to its path).")
        return Launch(runtime, "nodejs", program, str(major), address_space_limit=False)
    family = re.match(r"^[a-z]+", runtime).group(0) if re.match(r"^[a-z]+", runtime) else runtime
    raise Unavailable(f"The runtime {runtime} is not available in kumo: it has no {family} runtime client yet. "
                      "Use a python3.x, nodejsNN.x, javaNN or provided.al2023 (custom bootstrap) runtime.")


@functools.lru_cache(maxsize=None)
def find_python(want: tuple[int, int]) -> str | None:
    name = f"python{want[0]}.{want[1]}"
    candidates: list[str] = []
    found = shutil.which(name)
    if found:
        candidates.append(found)
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", f"{want[0]}.{want[1]}.*", "bin", name)),
                         reverse=True)
    candidates += [f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    for path in candidates:
        if not os.path.isfile(path) or not os.access(path, os.X_OK) or "/shims/" in path:
            continue  # pyenv's shims are shell scripts that cost ~150 ms a start
        if _python_version(path) == want:
            return path
    return None


@functools.lru_cache(maxsize=None)
def _python_version(path: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([path, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
                             capture_output=True, text=True, timeout=20)
        major, minor = out.stdout.split()
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=None)
def find_node(major: int) -> str | None:
    for path in filter(None, [shutil.which(f"node{major}"), shutil.which("node"), "/usr/bin/node",
                              "/usr/local/bin/node"]):
        if os.path.isfile(path) and os.access(path, os.X_OK) and _node_major(path) == major:
            return path
    return None


@functools.lru_cache(maxsize=None)
def _node_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
        return int(out.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=None)
def find_java(major: int) -> str | None:
    candidates = [shutil.which("java"), "/usr/bin/java"]
    if os.environ.get("JAVA_HOME"):
        candidates.insert(0, os.path.join(os.environ["JAVA_HOME"], "bin", "java"))
    candidates += sorted(glob.glob("/usr/lib/jvm/*/bin/java"))
    for path in filter(None, candidates):
        if os.path.isfile(path) and os.access(path, os.X_OK) and _java_major(path) == major:
            return os.path.realpath(path)
    return None


@functools.lru_cache(maxsize=None)
def _java_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=30).stderr
        version = re.search(r'version "(\d+)(?:\.(\d+))?', out)
        major = int(version.group(1))
        return int(version.group(2)) if major == 1 else major  # "1.8.0" is Java 8
    except (OSError, ValueError, AttributeError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=None)
def java_client(java: str) -> str | None:
    """Compile kumo's Java runtime client with the JDK of ``java`` (once; kept in ~/.cache/kumo)."""
    import hashlib

    javac = os.path.join(os.path.dirname(java), "javac")
    if not os.path.exists(javac):
        return None
    with open(JAVA_CLIENT, "rb") as f:
        digest = hashlib.sha256(f.read() + java.encode()).hexdigest()[:16]
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "kumo",
                         f"lambda-java-{digest}")
    if os.path.exists(os.path.join(cache, "KumoJavaRuntime.class")):
        return cache
    tmp = f"{cache}.tmp-{os.getpid()}"
    os.makedirs(tmp, exist_ok=True)
    try:
        done = subprocess.run([javac, "-nowarn", "-d", tmp, JAVA_CLIENT], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return None
        try:
            os.rename(tmp, cache)
        except OSError:  # compiled concurrently by another kumo: theirs is the same
            shutil.rmtree(tmp, ignore_errors=True)
        return cache
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
