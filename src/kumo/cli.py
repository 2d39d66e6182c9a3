"""The ``kumo`` command: start the cloud, ask it how it is, wipe it, move its clock, stop it.

No traceback reaches a user: every failure is one line on stderr saying what to do (``KUMO_DEBUG=1`` shows
the traceback of an unexpected one).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as _dt
import json
import logging
import os
import signal
import sqlite3
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from . import __version__
from .config import LOG_LEVELS


def _serving(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to serve on (KUMO_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to serve on (KUMO_PORT, default 4566)")


def _client(p: argparse.ArgumentParser) -> None:
    where = "(default: KUMO_URL, else KUMO_HOST and KUMO_PORT, else AWS_ENDPOINT_URL, else 127.0.0.1:4566)"
    p.add_argument("--host", help=f"address of the running kumo {where}")
    p.add_argument("--port", type=int, help=f"port of the running kumo {where}")


class _Parser(argparse.ArgumentParser):
    """Refuses unknown options with the usage of the command they were given to (``kumo start --bogus``)."""

    def parse_args(self, args=None, namespace=None):
        parsed, extra = self.parse_known_args(args, namespace)
        if extra:
            getattr(parsed, "_parser", self).error(f"unrecognized arguments: {' '.join(extra)}")
        return parsed


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kumo", description="A local AWS compute cloud.")
    parser.add_argument("--version", action="version", version=f"kumo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    start = sub.add_parser("start", help="serve the AWS endpoint in the foreground")
    _serving(start)
    start.add_argument("--data-dir", help="where state is kept (KUMO_DATA_DIR, default ~/.local/share/kumo)")
    start.add_argument("--ephemeral", action="store_true", default=None,
                       help="keep state in memory only (KUMO_EPHEMERAL)")
    start.add_argument("--time-scale", type=float,
                       help="run simulated time N times faster; 0 freezes it (KUMO_TIME_SCALE, default 1)")
    start.add_argument("--account-id", help="account of unsigned and unknown callers (KUMO_ACCOUNT_ID)")
    start.add_argument("--region", help="region of unsigned requests (KUMO_REGION, default us-east-1)")
    start.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS,
                       help="how much kumo logs (KUMO_LOG_LEVEL, default info)")
    start.add_argument("--loopback-base", type=int,
                       help="instances get addresses in 127.N.0.0/16 (KUMO_LOOPBACK_BASE, default 1)")
    start.add_argument("--lambda-concurrency", type=int,
                       help="Lambda concurrent executions per account and region (KUMO_LAMBDA_CONCURRENCY, "
                            "default 1000)")
    start.add_argument("--idle-timeout", type=float,
                       help="close a connection idle this many seconds (KUMO_IDLE_TIMEOUT, default 60)")
    start.add_argument("--header-timeout", type=float,
                       help="close a connection whose request head is not complete within this many seconds "
                            "(KUMO_HEADER_TIMEOUT, default 20)")
    start.add_argument("--body-timeout", type=float,
                       help="answer RequestTimeout when a request body stalls this many seconds "
                            "(KUMO_BODY_TIMEOUT, default 20)")
    start.add_argument("--admin-hosts",
                       help="host names besides localhost and loopback under which /_kumo/* answers, "
                            "comma-separated (KUMO_ADMIN_HOSTS)")
    start.add_argument("--enforce-signatures", action="store_true", default=None,
                       help="refuse requests without a valid SigV4 signature of a key kumo issued or the root "
                            "pair (KUMO_ENFORCE_SIGNATURES)")
    start.add_argument("--enforce-iam", action="store_true", default=None,
                       help="evaluate every request against IAM policies (KUMO_ENFORCE_IAM)")
    start.add_argument("--stop-instances-on-exit", action="store_true", default=None,
                       help="stop running instances when kumo stops (KUMO_STOP_INSTANCES_ON_EXIT); by default "
                            "they keep running and the next kumo on this data directory adopts them")

    status = sub.add_parser("status", help="show what the running kumo is doing")
    _client(status)
    status.add_argument("--json", action="store_true", help="print the raw health document")

    reset = sub.add_parser("reset", help="wipe all state of the running kumo")
    _client(reset)

    clock = sub.add_parser("clock", help="show or move the running kumo's clock")
    _client(clock)
    clock.add_argument("--advance", type=float, help="move simulated time forward by N seconds")
    clock.add_argument("--scale", type=float, help="set the time scale")
    clock.add_argument("--json", action="store_true", help="print the raw clock document")

    stop = sub.add_parser("stop", help="stop the running kumo (its instances keep running unless --all)")
    _client(stop)
    stop.add_argument("--all", action="store_true",
                      help="stop its instances too; with no kumo running, stop the instances a stopped kumo left "
                           "running on --data-dir")
    stop.add_argument("--data-dir", help="with --all and no kumo running: the data directory whose instances to "
                                         "stop (KUMO_DATA_DIR, default ~/.local/share/kumo)")

    fault = sub.add_parser("fault", help="break something on purpose and watch the cloud react")
    fault_sub = fault.add_subparsers(dest="target", required=True)
    instance = fault_sub.add_parser("instance", help="an EC2 instance")
    _client(instance)
    instance.add_argument("instance_id")
    what = instance.add_mutually_exclusive_group(required=True)
    what.add_argument("--kill", dest="action", action="store_const", const="kill",
                      help="every process of the instance dies at once")
    what.add_argument("--fail-instance-check", dest="action", action="store_const", const="fail-instance-check",
                      help="freeze the instance's processes, as in a hung OS")
    what.add_argument("--fail-system-check", dest="action", action="store_const", const="fail-system-check",
                      help="impair the instance's simulated host")
    what.add_argument("--clear", dest="action", action="store_const", const="clear",
                      help="thaw the processes and heal the host")
    coverage = sub.add_parser("coverage", help="list each service's operations: implemented, or answered 501")
    coverage.add_argument("--markdown", action="store_true", help="print docs/coverage.md")
    coverage.add_argument("--summary", action="store_true", help="only the counts per service")
    for p in (start, status, reset, clock, stop, instance, coverage):
        p.set_defaults(_parser=p)
    return parser


def _endpoint(args) -> str:
    """The running kumo's URL: --host/--port, else KUMO_URL, KUMO_HOST/KUMO_PORT, AWS_ENDPOINT_URL, the default."""
    from .config import Settings

    env = os.environ
    if args.host is None and args.port is None:
        for name in ("KUMO_URL",) + (() if env.get("KUMO_HOST") or env.get("KUMO_PORT") else ("AWS_ENDPOINT_URL",)):
            url = env.get(name, "").strip().rstrip("/")
            if url:
                parts = urllib.parse.urlsplit(url)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise Refused(f"{name} is {url!r}, not a URL like http://127.0.0.1:4566; fix or unset it")
                return f"{parts.scheme}://{parts.netloc}"
    s = Settings.from_env(host=args.host, port=args.port)
    host = "127.0.0.1" if s.host in ("0.0.0.0", "::", "") else s.host
    return f"http://[{host}]:{s.port}" if ":" in host else f"http://{host}:{s.port}"


class Refused(Exception):
    """A failure the user can act on: its message is the one line kumo prints."""


class NotRunning(Exception):
    pass


def _call(args, path: str, body: dict | None = None) -> dict:
    url = _endpoint(args)
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        try:
            message = json.loads(exc.read()).get("error")
        except (ValueError, AttributeError):
            message = None
        if message:
            raise Refused(message) from None
        raise Refused(f"{url} answered {exc.code} {exc.reason}: is it a kumo? Point KUMO_URL at one") from None
    except TimeoutError:
        raise Refused(f"kumo at {url} did not answer within 30 s; is it busy or stopped (kill -STOP)?") from None
    except (urllib.error.URLError, OSError) as exc:
        raise NotRunning(url) from exc
    try:
        return json.loads(raw)
    except ValueError:
        raise Refused(f"{url} did not answer as kumo does: is it a kumo? Point KUMO_URL at one") from None


def cmd_start(args) -> int:
    from .config import Settings
    from .core.loopback import LoopbackInUse
    from .server import DataDirInUse, Kumo, new_event_loop

    try:
        settings = Settings.from_env(
            host=args.host, port=args.port, data_dir=args.data_dir, ephemeral=args.ephemeral,
            time_scale=args.time_scale, account_id=args.account_id, region=args.region, log_level=args.log_level,
            loopback_base=args.loopback_base, lambda_concurrency=args.lambda_concurrency,
            idle_timeout=args.idle_timeout, header_timeout=args.header_timeout, body_timeout=args.body_timeout,
            admin_hosts=args.admin_hosts,
            enforce_signatures=args.enforce_signatures,
            enforce_iam=args.enforce_iam,
            stop_instances_on_exit=args.stop_instances_on_exit,
        )
    except ValueError as exc:
        print(f"kumo: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, settings.log_level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    loop = new_event_loop()
    asyncio.set_event_loop(loop)

    async def main() -> int:
        try:
            kumo = Kumo(settings)
        except DataDirInUse as exc:
            print(f"kumo: {exc}", file=sys.stderr)
            return 1
        except (OSError, sqlite3.Error) as exc:
            print(f"kumo: cannot keep state in {settings.data_dir}: {getattr(exc, 'strerror', None) or exc}; "
                  f"give --data-dir a directory you can write", file=sys.stderr)
            return 1
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, kumo.stop_requested.set)
        try:
            port = await kumo.start()
        except OSError as exc:
            print(f"kumo: cannot serve on {settings.host}:{settings.port}: {exc.strerror or exc}; "
                  f"choose another --port or --host", file=sys.stderr)
            await kumo.stop()
            return 1
        except LoopbackInUse as exc:
            print(f"kumo: {exc}", file=sys.stderr)
            await kumo.stop()
            return 1
        where = "in memory" if settings.ephemeral else kumo.store.path
        scale = f", time x{settings.time_scale:g}" if settings.time_scale != 1 else ""
        print(f"kumo {__version__} ready on http://{settings.host}:{port} (state {where}{scale})", flush=True)
        await kumo.stop_requested.wait()
        print("kumo: shutting down", file=sys.stderr, flush=True)
        await kumo.stop()
        kept = kumo.left_running.get("instance", 0)
        if kept:
            print(f"kumo: {kept} instance{'s' if kept != 1 else ''} keep{'s' if kept == 1 else ''} running; "
                  f"the next `kumo start` on {settings.data_dir} adopts them, `kumo stop --all` stops them",
                  file=sys.stderr, flush=True)
        return 0

    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def cmd_status(args) -> int:
    health = _call(args, "/_kumo/health")
    if args.json:
        print(json.dumps(health, indent=2))
        return 0
    print(f"kumo {health['version']} at {health['endpoint']}, up {health['uptime']:.0f}s, "
          f"{health['requests']} requests served")
    state = health["state"]
    print(f"state: {'in memory' if state['ephemeral'] else state['path']}, {state['records']} records")
    print(f"clock: {_human(health['clock']['now'])}, x{health['clock']['scale']:g}")
    if health.get("enforce_signatures"):
        print("signatures: enforced")
    for name, st in sorted(health["services"].items()):
        print(f"  {name:14} {st}")
    return 0


def cmd_reset(args) -> int:
    _call(args, "/_kumo/reset", {})
    print("kumo state wiped")
    return 0


def _human(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def cmd_clock(args) -> int:
    body = {}
    if args.advance is not None:
        body["advance"] = args.advance
    if args.scale is not None:
        body["scale"] = args.scale
    clock = _call(args, "/_kumo/clock", body if body else None)
    if args.json:
        print(json.dumps(clock))
    else:
        pace = "frozen" if clock["scale"] == 0 else f"x{clock['scale']:g}"
        print(f"{_human(clock['now'])} (epoch {clock['now']:.3f}), {pace}")
    return 0


def cmd_fault(args) -> int:
    print(json.dumps(_call(args, f"/_kumo/faults/instances/{args.instance_id}", {"action": args.action})))
    return 0


def cmd_stop(args) -> int:
    try:
        answer = _call(args, "/_kumo/stop", {"instances": "stop" if args.all else "keep"})
    except NotRunning as exc:
        if not args.all:
            raise
        return _stop_left_running(args, str(exc))
    url = _endpoint(args)
    deadline = time.monotonic() + 60  # real-time measurement: how long a user waits for the stop
    while time.monotonic() < deadline:  # real-time measurement, as above
        try:
            _call(args, "/_kumo/health")
        except (NotRunning, Refused):
            break
        time.sleep(0.1)
    else:
        raise Refused(f"kumo (pid {answer['pid']}) at {url} is still stopping after 60 s; try kill {answer['pid']}")
    what = ("its instances stopped too" if answer.get("instances") == "stop" else
            "its running instances keep running (`kumo stop --all` stops them)")
    print(f"kumo (pid {answer['pid']}) at {url} stopped; {what}")
    return 0


def _stop_left_running(args, url: str) -> int:
    """No kumo answers: stop the instances a stopped kumo left running, holding its data directory meanwhile."""
    from .config import Settings
    from .core.store import Store
    from .dataplane.compute.process import ProcessBackend
    from .dataplane.lb.control import retire_workers
    from .server import DataDirInUse, claim_data_dir
    from .services.ec2.lifecycle import stop_left_running

    data_dir = Settings.from_env(data_dir=args.data_dir).data_dir
    db = os.path.join(data_dir, "state.db")
    if not os.path.exists(db):
        print(f"kumo is not running at {url}, and {data_dir} holds no state: nothing to stop")
        return 0
    try:
        lock = claim_data_dir(data_dir)
    except DataDirInUse as exc:
        raise Refused(f"{exc}, but it does not answer at {url}: point KUMO_URL (or --port) at it") from None
    try:
        store = Store(db)
        try:
            stopped = asyncio.run(stop_left_running(store, ProcessBackend(data_dir)))
        finally:
            store.close()
        # Its load balancer workers, still serving alone, go too.
        retire_workers("KUMO_LB_OWNER", os.path.abspath(data_dir))
    finally:
        lock.release()
    print(f"kumo is not running at {url}; stopped {stopped} instance{'s' if stopped != 1 else ''} it left running "
          f"in {data_dir}")
    return 0


def cmd_coverage(args) -> int:
    from . import coverage

    services = coverage.report()
    print(coverage.markdown(services) if args.markdown else coverage.text(services, not args.summary), end="")
    return 0


HANDLERS = {"coverage": cmd_coverage, "start": cmd_start, "status": cmd_status, "reset": cmd_reset, "clock": cmd_clock, "fault": cmd_fault,
            "stop": cmd_stop}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command != "start" and hasattr(signal, "SIGPIPE"):
        # A client command piped into `head` ends quietly, as other command-line tools do.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        return HANDLERS[args.command](args)
    except NotRunning as exc:
        print(f"kumo is not running at {exc}; start it with `kumo start` (or point KUMO_URL at it)")
        return 1
    except Refused as exc:
        print(f"kumo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`kumo start | head -1`): nothing left to tell it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # noqa: BLE001 - whatever it is, the user gets one line, not a traceback
        if os.environ.get("KUMO_DEBUG"):
            raise
        print(f"kumo: unexpected {type(exc).__name__}: {exc}; run again with KUMO_DEBUG=1 for the traceback "
              f"and report it", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
