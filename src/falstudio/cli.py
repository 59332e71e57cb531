"""``falstudio`` command line. Each sub-command is one ``_add_<name>`` function registered in ``COMMANDS``."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate between 0 and 1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def serve(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Run the local fal-compatible server until Ctrl-C (or until ``stop`` is set)."""
    from falstudio.local import Faults, LocalServer

    faults = Faults(ingress_503=args.fault_503, rate_limit_429=args.fault_429, drop_sse=args.fault_drop_sse,
                    slow_start=args.slow_start, fail_prompt=args.fail_prompt)
    try:
        server = LocalServer(host=args.host, port=args.port, key=args.key, latency=args.latency,
                             concurrency=args.concurrency, faults=faults, allow_remote_fetch=args.allow_remote_fetch,
                             max_upload_bytes=int(args.max_upload_mb * 1024 * 1024), storage_dir=args.storage_dir)
    except (OSError, ValueError) as exc:
        print(f"falstudio serve: {exc}", file=sys.stderr)
        return 1
    try:
        server.start()
    except OSError as exc:
        print(f"falstudio serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"falstudio local server (offline engines) at {server.url}", flush=True)
    print(f"key: {server.key}", flush=True)
    print("Send 'Authorization: Key <key>'; queue API at the root, sync runs under /run. Ctrl-C stops.", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}, reachable from other machines (anyone with the key can use it)",
              file=sys.stderr, flush=True)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()
    return 0


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("serve", help="run the offline fal-compatible server",
                            description="Serve fal's queue, run and storage APIs with offline image engines.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--key", default=None, help="API key clients must send (default: a random one, printed)")
    p.add_argument("--latency", type=_non_negative, default=1.0,
                   help="simulated model time multiplier (default 1; 0 = instant)")
    p.add_argument("--concurrency", type=_positive_int, default=2, help="concurrent workers (default 2)")
    p.add_argument("--allow-remote-fetch", action="store_true",
                   help="fetch http(s) image inputs and call non-loopback webhooks")
    p.add_argument("--storage-dir", default=None, help="keep files here (default: a temporary directory)")
    p.add_argument("--max-upload-mb", type=_positive, default=50.0, help="upload size limit (default 50)")
    faults = p.add_argument_group("fault injection")
    faults.add_argument("--fault-503", type=_rate, default=0.0, metavar="RATE", help="share of nginx 503s")
    faults.add_argument("--fault-429", type=_rate, default=0.0, metavar="RATE", help="share of 429s")
    faults.add_argument("--fault-drop-sse", type=_rate, default=0.0, metavar="RATE",
                        help="share of status streams closed early")
    faults.add_argument("--slow-start", type=_non_negative, default=0.0, metavar="SECONDS",
                        help="extra wait before each job starts")
    faults.add_argument("--fail-prompt", default=None, metavar="TEXT",
                        help="prompts containing TEXT fail with content_policy_violation")
    p.set_defaults(handler=serve)


# Sub-commands, in help order. A new one is a function like _add_serve that sets ``handler``.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [_add_serve]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="falstudio", description="fal.ai GPT Image tools for notebooks.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
