"""The ``kumo`` command: start the cloud, ask it how it is, wipe it, move its clock."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import urllib.error
import urllib.request

from . import __version__


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", help="address to serve on (KUMO_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port to serve on (KUMO_PORT, default 4566)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kumo", description="A local AWS compute cloud.")
    parser.add_argument("--version", action="version", version=f"kumo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    start = sub.add_parser("start", help="serve the AWS endpoint in the foreground")
    _common(start)
    start.add_argument("--data-dir", help="where state is kept (KUMO_DATA_DIR, default ~/.local/share/kumo)")
    start.add_argument("--ephemeral", action="store_true", default=None,
                       help="keep state in memory only (KUMO_EPHEMERAL)")
    start.add_argument("--time-scale", type=float,
                       help="run simulated time N times faster; 0 freezes it (KUMO_TIME_SCALE, default 1)")
    start.add_argument("--account-id", help="account of unsigned and unknown callers (KUMO_ACCOUNT_ID)")
    start.add_argument("--region", help="region of unsigned requests (KUMO_REGION, default us-east-1)")
    start.add_argument("--log-level", help="debug, info, warning or error (KUMO_LOG_LEVEL)")
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

    status = sub.add_parser("status", help="show what the running kumo is doing")
    _common(status)
    status.add_argument("--json", action="store_true", help="print the raw health document")

    reset = sub.add_parser("reset", help="wipe all state of the running kumo")
    _common(reset)

    clock = sub.add_parser("clock", help="show or move the running kumo's clock")
    _common(clock)
    clock.add_argument("--advance", type=float, help="move simulated time forward by N seconds")
    clock.add_argument("--scale", type=float, help="set the time scale")
    fault = sub.add_parser("fault", help="break something on purpose and watch the cloud react")
    fault_sub = fault.add_subparsers(dest="target", required=True)
    instance = fault_sub.add_parser("instance", help="an EC2 instance")
    _common(instance)
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
    return parser


def _endpoint(args) -> str:
    from .config import Settings

    s = Settings.from_env(host=args.host, port=args.port)
    host = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host
    return f"http://{host}:{s.port}"


def _call(args, path: str, body: dict | None = None) -> dict:
    url = _endpoint(args) + path
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def cmd_start(args) -> int:
    from .config import Settings
    from .core.loopback import LoopbackInUse
    from .server import Kumo, new_event_loop

    try:
        settings = Settings.from_env(
            host=args.host, port=args.port, data_dir=args.data_dir, ephemeral=args.ephemeral,
            time_scale=args.time_scale, account_id=args.account_id, region=args.region, log_level=args.log_level,
            loopback_base=args.loopback_base, lambda_concurrency=args.lambda_concurrency,
            idle_timeout=args.idle_timeout, header_timeout=args.header_timeout, body_timeout=args.body_timeout,
            admin_hosts=args.admin_hosts,
            enforce_signatures=args.enforce_signatures,
            enforce_iam=args.enforce_iam,
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
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def main() -> int:
        kumo = Kumo(settings)
        try:
            port = await kumo.start()
        except OSError as exc:
            print(f"kumo: cannot serve on {settings.host}:{settings.port}: {exc.strerror or exc}", file=sys.stderr)
            await kumo.stop()
            return 1
        except LoopbackInUse as exc:
            print(f"kumo: {exc}", file=sys.stderr)
            await kumo.stop()
            return 1
        where = "in memory" if settings.ephemeral else kumo.store.path
        scale = f", time x{settings.time_scale:g}" if settings.time_scale != 1 else ""
        print(f"kumo {__version__} ready on http://{settings.host}:{port} (state {where}{scale})", flush=True)
        await stop.wait()
        print("kumo: shutting down", file=sys.stderr, flush=True)
        await kumo.stop()
        return 0

    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def cmd_status(args) -> int:
    try:
        health = _call(args, "/_kumo/health")
    except (urllib.error.URLError, OSError):
        print(f"kumo is not running at {_endpoint(args)}")
        return 1
    if args.json:
        print(json.dumps(health, indent=2))
        return 0
    print(f"kumo {health['version']} at {health['endpoint']}, up {health['uptime']:.0f}s, "
          f"{health['requests']} requests served")
    state = health["state"]
    print(f"state: {'in memory' if state['ephemeral'] else state['path']}, {state['records']} records")
    print(f"clock: x{health['clock']['scale']:g}")
    if health.get("enforce_signatures"):
        print("signatures: enforced")
    for name, st in sorted(health["services"].items()):
        print(f"  {name:14} {st}")
    return 0


def cmd_reset(args) -> int:
    try:
        _call(args, "/_kumo/reset", {})
    except (urllib.error.URLError, OSError):
        print(f"kumo is not running at {_endpoint(args)}")
        return 1
    print("kumo state wiped")
    return 0


def cmd_clock(args) -> int:
    body = {}
    if args.advance is not None:
        body["advance"] = args.advance
    if args.scale is not None:
        body["scale"] = args.scale
    return _print_call(args, "/_kumo/clock", body if body else None)


def cmd_fault(args) -> int:
    return _print_call(args, f"/_kumo/faults/instances/{args.instance_id}", {"action": args.action})


def _print_call(args, path: str, body: dict | None) -> int:
    """Call one of kumo's own endpoints and print its JSON answer; exit codes: 2 refused, 1 not running."""
    try:
        result = _call(args, path, body)
    except urllib.error.HTTPError as exc:
        print(f"kumo: {json.loads(exc.read()).get('error')}", file=sys.stderr)
        return 2
    except (urllib.error.URLError, OSError):
        print(f"kumo is not running at {_endpoint(args)}")
        return 1
    print(json.dumps(result))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"start": cmd_start, "status": cmd_status, "reset": cmd_reset, "clock": cmd_clock,
               "fault": cmd_fault}[args.command]
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
