"""The aws CLI against kumo as its own process: a 200 MiB multipart copy both ways with kumo's RSS bounded,
and ``aws s3 sync`` of 500 files both ways."""

import filecmp
import hashlib
import os
import subprocess
import sys
import threading

MiB = 1024 * 1024


def cli(proc, tmp_path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, AWS_ENDPOINT_URL=proc.endpoint, AWS_ACCESS_KEY_ID="000000000000",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
               AWS_CONFIG_FILE=str(tmp_path / "aws-config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-creds"))
    out = subprocess.run([sys.executable, "-m", "awscli", *args], env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out


class RssSampler:
    """The peak VmRSS of a process, sampled every 50 ms (real time) from /proc while a transfer runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.peak = max(self.peak, int(line.split()[1]) * 1024)
            except FileNotFoundError:
                return
            self._stop.wait(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


def _big_file(path, size: int) -> str:
    md5 = hashlib.md5()
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            chunk = os.urandom(MiB)
            md5.update(chunk)
            f.write(chunk)
    return md5.hexdigest()


def test_cp_200_mib_both_ways_with_bounded_rss(kumo_process, tmp_path):
    proc = kumo_process("--ephemeral").start()
    src, back = tmp_path / "big.bin", tmp_path / "back.bin"
    digest = _big_file(src, 200 * MiB)
    cli(proc, tmp_path, "s3", "mb", "s3://big-transfer")
    with RssSampler(proc.proc.pid) as rss:
        cli(proc, tmp_path, "s3", "cp", str(src), "s3://big-transfer/big.bin")
        cli(proc, tmp_path, "s3", "cp", "s3://big-transfer/big.bin", str(back))
    assert back.stat().st_size == 200 * MiB
    assert hashlib.md5(back.read_bytes()).hexdigest() == digest
    print(f"kumo RSS peak during 200 MiB cp both ways: {rss.peak / MiB:.0f} MiB")
    assert 0 < rss.peak < 150 * MiB, f"kumo's RSS peaked at {rss.peak / MiB:.0f} MiB"
    head = cli(proc, tmp_path, "s3api", "head-object", "--bucket", "big-transfer", "--key", "big.bin").stdout
    assert '-' in head.split('"ETag"')[1].split("\n")[0]  # multipart ETag: md5-of-md5s-N


def test_sync_500_files_both_ways(kumo_process, tmp_path):
    proc = kumo_process("--ephemeral").start()
    local = tmp_path / "local"
    for i in range(500):
        sub = local / f"d{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}.txt").write_bytes(os.urandom(64 + i))
    cli(proc, tmp_path, "s3", "mb", "s3://sync-test")
    cli(proc, tmp_path, "s3", "sync", str(local), "s3://sync-test/tree")
    listed = cli(proc, tmp_path, "s3", "ls", "--recursive", "s3://sync-test/tree/").stdout.strip().splitlines()
    assert len(listed) == 500
    again = cli(proc, tmp_path, "s3", "sync", str(local), "s3://sync-test/tree").stdout
    assert again.strip() == ""  # nothing changed: nothing copied
    down = tmp_path / "down"
    cli(proc, tmp_path, "s3", "sync", "s3://sync-test/tree", str(down))
    cmp = filecmp.dircmp(local, down)
    files = [p for p in down.rglob("*") if p.is_file()]
    assert len(files) == 500
    for path in files:
        assert path.read_bytes() == (local / path.relative_to(down)).read_bytes()
    assert not cmp.left_only and not cmp.right_only
