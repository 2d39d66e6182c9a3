"""The kumo a campaign fuzzes: a child process on loopback whose log (tracebacks of 500s) goes to a file.

Its log goes to a file, not a pipe: a pipe nobody reads fills up under a
stream of logged errors and stalls the server.  After it stops, ``leftovers``
lists what it started and left behind: processes carrying its workload token
or its data directory, and sockets listening in its loopback networks.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.conftest import claim_loopback, free_port


class FuzzServer:
    def __init__(self, time_scale: float = 60.0):
        self.data_dir = Path(tempfile.mkdtemp(prefix="kumo-fuzz-"))
        self.port = free_port()
        self.claim = claim_loopback(60, 229)
        self.time_scale = time_scale
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir / "kumo.log"
        self._log = None
        self._read = 0
        self.token = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "FuzzServer":
        self._log = open(self.log_path, "wb")
        cmd = [sys.executable, "-m", "kumo.cli", "start", "--port", str(self.port), "--data-dir",
               str(self.data_dir / "state"), "--loopback-base", str(self.claim.base), "--time-scale",
               str(self.time_scale), "--stop-instances-on-exit"]  # what it ran ends with it (stop())
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kumo exited early: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.endpoint + "/_kumo/health", timeout=2):
                    self._read_token()  # now: a reset wipes the record, not the processes' tag
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("kumo did not answer health checks in time")

    def new_log(self) -> str:
        """The log written since the last call."""
        with open(self.log_path, "rb") as f:
            f.seek(self._read)
            data = f.read()
        self._read += len(data)
        return data.decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int | None:
        """Stop kumo as a user would (SIGTERM: it stops what it runs), and return its exit code."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    code = self.proc.wait(60)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(10)
            else:
                code = self.proc.returncode
        if self._log is not None:
            self._log.close()
        self.claim.release()
        return code

    def _read_token(self) -> None:
        try:
            with sqlite3.connect(self.data_dir / "state" / "state.db", timeout=5) as db:
                row = db.execute("SELECT value FROM records WHERE scope='' AND kind='ec2.runtime' AND key='token'"
                                 ).fetchone()
            if row:
                self.token = json.loads(row[0])["token"]
        except Exception:
            pass

    def leftovers(self) -> list[str]:
        found = []
        marks = [str(self.data_dir).encode()]
        if self.token:
            marks.append(f"KUMO_WORKLOAD={self.token}/".encode())
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes()
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if any(m in env or m in cmd for m in marks):
                shown = cmd.replace(b"\0", b" ")[:200].decode(errors="replace")
                found.append(f"process {pid}: {shown}")
        nets = {self.claim.base + i for i in range(4)}
        for table in ("/proc/net/tcp",):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                local, state = fields[1], fields[3]
                if state != "0A":  # LISTEN
                    continue
                addr = bytes.fromhex(local.split(":")[0])[::-1]
                if addr[0] == 127 and addr[1] in nets:
                    found.append(f"socket listening on 127.{addr[1]}.{addr[2]}.{addr[3]}:{int(local.split(':')[1], 16)}")
        return found

    def cleanup(self) -> None:
        shutil.rmtree(self.data_dir, ignore_errors=True)
