"""Load balancer data planes beside HAProxy, in the same run, all on loopback.

A trivial backend (nginx answering a fixed body) sits behind each proxy; wrk
(Debian's) drives each proxy for the same duration with the same connections:

* kumo's ALB data plane vs HAProxy in HTTP mode (small responses: requests/s, p50, p99);
* kumo's NLB data plane vs HAProxy in TCP mode (small responses: requests/s; 256 KiB
  responses: bytes/s).

Needs: apt-get install haproxy wrk nginx-light.   Run:  python bench/bench_elb.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import free_port, kumo, record  # noqa: E402

NGINX = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx.err;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "hello from the backend\\n"; }}
    location /big {{ alias {dir}/big.bin; }}
  }}
}}
"""

HAPROXY = """global
  maxconn 4000
defaults
  mode {mode}
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  {http_options}
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  server s1 127.0.0.1:{backend}
"""


# Paced load: each connection waits this long before its next request, so both proxies see the same offered rate
# (connections x 1000 / PACE_MS requests/s) below either one's capacity: latency without a saturated CPU.
PACE_MS = 4
PACED = f"function delay()\n  return {PACE_MS}\nend\n"


def wrk(url: str, seconds: int, connections: int, threads: int, script: str | None = None) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"] + (["-s", script] if script else [])
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\b", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    scale = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}
    bps = float(transfer.group(1)) * scale.get(transfer.group(2), 1) if transfer else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "bps": bps,
            "non2xx": int(errors.group(1)) if errors else 0}


def start_nginx(tmp: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    os.chmod(tmp, 0o755)  # nginx's workers run as another user
    Path(tmp, "big.bin").write_bytes(os.urandom(256 * 1024))
    os.chmod(Path(tmp, "big.bin"), 0o644)
    Path(tmp, "nginx.conf").write_text(NGINX.format(dir=tmp, port=port))
    proc = subprocess.Popen(["nginx", "-c", f"{tmp}/nginx.conf"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port)
    return proc, port


def start_haproxy(tmp: str, mode: str, backend: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    cfg = Path(tmp, f"haproxy-{mode}.cfg")
    opts = "option http-keep-alive" if mode == "http" else ""
    cfg.write_text(HAPROXY.format(mode=mode, port=port, backend=backend, http_options=opts))
    proc = subprocess.Popen(["haproxy", "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port)
    return proc, port


def _wait_port(port: int, host: str = "127.0.0.1", timeout: float = 20) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {host}:{port}")


def kumo_load_balancers(server, backend: int) -> tuple[str, str]:
    """An ALB and an NLB in front of the backend (an ip target on loopback); their node addresses."""
    ec2, elb = server.client("ec2"), server.client("elbv2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    out = []
    for kind, protocol in (("application", "HTTP"), ("network", "TCP")):
        lb = elb.create_load_balancer(Name=f"bench-{kind[:3]}", Type=kind, Subnets=subnets)["LoadBalancers"][0]
        tg = elb.create_target_group(Name=f"bench-{kind[:3]}", Protocol=protocol, Port=backend, VpcId=vpc,
                                     TargetType="ip")["TargetGroups"][0]
        elb.register_targets(TargetGroupArn=tg["TargetGroupArn"], Targets=[{"Id": "127.0.0.1", "Port": backend}])
        elb.create_listener(LoadBalancerArn=lb["LoadBalancerArn"], Protocol=protocol, Port=18080,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}])
        elb.get_waiter("load_balancer_available").wait(LoadBalancerArns=[lb["LoadBalancerArn"]])
        out.append(lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"])
    for ip in out:
        _wait_port(18080, ip)
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    for tool in ("haproxy", "wrk", "nginx"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install haproxy wrk nginx-light")
    tmp = tempfile.mkdtemp(prefix="kumo-bench-elb-")
    procs = []
    server = None
    try:
        nginx, backend = start_nginx(tmp)
        procs.append(nginx)
        hp_http, hp_http_port = start_haproxy(tmp, "http", backend)
        hp_tcp, hp_tcp_port = start_haproxy(tmp, "tcp", backend)
        procs += [hp_http, hp_tcp]
        server = kumo("--ephemeral", "--loopback-base", "240").start()
        alb, nlb = kumo_load_balancers(server, backend)
        run = lambda url: wrk(url, args.seconds, args.connections, args.threads)  # noqa: E731
        paced_script = os.path.join(tmp, "paced.lua")
        Path(paced_script).write_text(PACED)
        paced = lambda url: wrk(url, args.seconds, args.connections, args.threads, paced_script)  # noqa: E731
        # Warm every data plane before measuring (first connections, the ALB's pool of target connections).
        for url in (f"http://127.0.0.1:{hp_http_port}/", f"http://{alb}:18080/", f"http://127.0.0.1:{hp_tcp_port}/",
                    f"http://{nlb}:18080/"):
            wrk(url, 2, args.connections, args.threads)
        # Peers alternate within each round, so a noisy spell of the machine hits both sides alike.
        rounds = []
        loads = []
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
            rounds.append({
                "haproxy-http": run(f"http://127.0.0.1:{hp_http_port}/"),
                "kumo-alb": run(f"http://{alb}:18080/"),
                "haproxy-http-paced": paced(f"http://127.0.0.1:{hp_http_port}/"),
                "kumo-alb-paced": paced(f"http://{alb}:18080/"),
                "haproxy-tcp": run(f"http://127.0.0.1:{hp_tcp_port}/"),
                "kumo-nlb": run(f"http://{nlb}:18080/"),
                "haproxy-tcp-big": run(f"http://127.0.0.1:{hp_tcp_port}/big"),
                "kumo-nlb-big": run(f"http://{nlb}:18080/big"),
                "direct": run(f"http://127.0.0.1:{backend}/"),
            })
    finally:
        if server is not None:
            server.stop()
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)

    def median_of(key: str) -> dict:
        return {m: statistics.median(rd[key][m] for rd in rounds) for m in rounds[0][key]}

    r = {key: median_of(key) for key in rounds[0]}
    rows = [
        "| data plane | requests/s | p50 (ms) | p99 (ms) | bytes/s (256 KiB responses) |",
        "|---|---|---|---|---|",
        f"| backend directly (nginx) | {r['direct']['rps']:.0f} | {r['direct']['p50']:.2f} | {r['direct']['p99']:.2f} | |",
        f"| HAProxy, HTTP mode | {r['haproxy-http']['rps']:.0f} | {r['haproxy-http']['p50']:.2f} | "
        f"{r['haproxy-http']['p99']:.2f} | |",
        f"| kumo ALB | {r['kumo-alb']['rps']:.0f} | {r['kumo-alb']['p50']:.2f} | {r['kumo-alb']['p99']:.2f} | |",
        f"| HAProxy, HTTP mode, paced | {r['haproxy-http-paced']['rps']:.0f} | {r['haproxy-http-paced']['p50']:.2f} | "
        f"{r['haproxy-http-paced']['p99']:.2f} | |",
        f"| kumo ALB, paced | {r['kumo-alb-paced']['rps']:.0f} | {r['kumo-alb-paced']['p50']:.2f} | "
        f"{r['kumo-alb-paced']['p99']:.2f} | |",
        f"| HAProxy, TCP mode | {r['haproxy-tcp']['rps']:.0f} | {r['haproxy-tcp']['p50']:.2f} | "
        f"{r['haproxy-tcp']['p99']:.2f} | {r['haproxy-tcp-big']['bps'] / 2**20:.0f} MiB/s |",
        f"| kumo NLB | {r['kumo-nlb']['rps']:.0f} | {r['kumo-nlb']['p50']:.2f} | {r['kumo-nlb']['p99']:.2f} | "
        f"{r['kumo-nlb-big']['bps'] / 2**20:.0f} MiB/s |",
    ]
    def ratio(a: str, b: str, m: str) -> tuple[float, list[float]]:
        each = [rd[a][m] / rd[b][m] for rd in rounds]
        return statistics.median(each), each

    alb_rps, alb_rps_each = ratio("kumo-alb", "haproxy-http", "rps")
    alb_p99, alb_p99_each = ratio("kumo-alb", "haproxy-http", "p99")
    paced_p99, paced_p99_each = ratio("kumo-alb-paced", "haproxy-http-paced", "p99")
    nlb_rps, nlb_rps_each = ratio("kumo-nlb", "haproxy-tcp", "rps")
    nlb_bps, nlb_bps_each = ratio("kumo-nlb-big", "haproxy-tcp-big", "bps")

    def each(values, fmt):
        return ", ".join(fmt.format(v) for v in values)
    # Issue 14's targets hold in every round, not only in the median one.
    verdicts = [
        f"- ALB: {alb_rps:.0%} of HAProxy's requests/s (rounds: {each(alb_rps_each, '{:.0%}')}; target >= 70% in "
        f"every round): {'met' if min(alb_rps_each) >= 0.7 else 'NOT met'}; p99 {alb_p99:.2f}x HAProxy's (rounds: "
        f"{each(alb_p99_each, '{:.2f}x')}; target <= 2x in every round): "
        f"{'met' if max(alb_p99_each) <= 2 else 'NOT met'} at saturation; "
        f"at the same paced load p99 is {paced_p99:.2f}x HAProxy's (rounds: {each(paced_p99_each, '{:.2f}x')}): "
        f"{'met' if max(paced_p99_each) <= 2 else 'NOT met'}",
        f"- NLB: {nlb_rps:.0%} of HAProxy's requests/s (rounds: {each(nlb_rps_each, '{:.0%}')}) and {nlb_bps:.0%} of "
        f"its bytes/s (rounds: {each(nlb_bps_each, '{:.0%}')}); target >= 90% of its requests/s and >= 70% of its "
        f"bytes/s: {'met' if nlb_rps >= 0.9 and nlb_bps >= 0.7 else 'NOT met'}",
        "- machine load (1-minute load average) at the start of each round: " + ", ".join(f"{v:.1f}" for v in loads),
        "- non-2xx responses (all rounds): " + ", ".join(
            f"{k} {sum(rd[k]['non2xx'] for rd in rounds):.0f}" for k in rounds[0]),
    ]
    note = (f"Medians of {args.rounds} rounds; wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, keep-alive, "
            f"on one 2-core machine shared by "
            f"wrk, the proxy and nginx; HAProxy 2.6 with its default threads (one per core); kumo with its default "
            f"data-plane workers (one per two cores).  Unpaced runs are closed loops that saturate the CPU: latency there is "
            f"mostly queueing behind the proxy's CPU cost (Little's law), so the paced rows (each connection waits "
            f"{PACE_MS} ms between requests, the same offered rate for both) show latency below saturation.")
    table = "\n".join(rows)
    print(table)
    print("\n".join(verdicts))
    if not args.no_record:
        record("Load balancers: kumo vs HAProxy", f"python bench/bench_elb.py --rounds {args.rounds}", table + "\n\n" + "\n".join(verdicts)
               + "\n\n" + note)


if __name__ == "__main__":
    main()
