"""``falstudio`` command line. Each sub-command is one ``_add_<name>`` function registered in ``COMMANDS``."""

from __future__ import annotations

import argparse
import math
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from falstudio.endpoints.defaults import DEFAULT_ENDPOINT, DEMO_PROMPT

if TYPE_CHECKING:
    from falstudio.client import Platform

Handler = Callable[[argparse.Namespace], int]
N = TypeVar("N", int, float)


def _checked(convert: Callable[[str], N], ok: Callable[[N], bool], expected: str) -> Callable[[str], N]:
    """An argparse ``type=`` that converts and then checks, with a message saying what was expected."""

    def parse(text: str) -> N:
        value = convert(text)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{expected}, got {text}")
        return value

    parse.__name__ = convert.__name__  # argparse says "invalid float value: 'x'" when convert() fails
    return parse


_rate = _checked(float, lambda v: 0.0 <= v <= 1.0, "a rate between 0 and 1")
_non_negative = _checked(float, lambda v: v >= 0, "must be >= 0")
_positive = _checked(float, lambda v: 0 < v < math.inf, "must be a number > 0")
_positive_int = _checked(int, lambda v: v >= 1, "must be >= 1")
_port = _checked(int, lambda v: 0 <= v <= 65535, "a TCP port 0-65535 (0 picks a free one)")


def serve(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Run the local fal-compatible server until Ctrl-C (or until ``stop`` is set)."""
    from falstudio.local import Faults, LocalServer

    faults = Faults(
        ingress_503=args.fault_503,
        rate_limit_429=args.fault_429,
        drop_sse=args.fault_drop_sse,
        slow_start=args.slow_start,
        fail_prompt=args.fail_prompt,
    )
    try:
        server = LocalServer(
            host=args.host,
            port=args.port,
            key=args.key,
            latency=args.latency,
            concurrency=args.concurrency,
            faults=faults,
            allow_remote_fetch=args.allow_remote_fetch,
            max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
            storage_dir=args.storage_dir,
            allowed_hosts=args.allow_host,
            retention_seconds=args.retention_hours * 3600,
            max_storage_bytes=int(args.max_storage_mb * 1024 * 1024),
            max_jobs=args.max_jobs,
        )
    except OSError as exc:
        print(f"falstudio serve: cannot use --storage-dir {args.storage_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
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
        print(
            f"warning: listening on {args.host}, reachable from other machines (anyone with the key can use it); "
            "it answers requests addressed to that host (for 0.0.0.0 or ::, any IP address or this machine's "
            "name) or to a name given with --allow-host",
            file=sys.stderr,
            flush=True,
        )
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        server.stop()
    return 0


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve",
        help="run the offline fal-compatible server",
        description="Serve fal's queue, run and storage APIs with offline image engines.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1, loopback only)")
    p.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--key", default=None, help="API key clients must send (default: a random one, printed)")
    p.add_argument(
        "--latency", type=_non_negative, default=1.0, help="simulated model time multiplier (default 1; 0 = instant)"
    )
    p.add_argument("--concurrency", type=_positive_int, default=2, help="concurrent workers (default 2)")
    p.add_argument(
        "--allow-remote-fetch", action="store_true", help="fetch http(s) image inputs and call non-loopback webhooks"
    )
    p.add_argument("--storage-dir", default=None, help="keep files here (default: a temporary directory)")
    p.add_argument("--max-upload-mb", type=_positive, default=50.0, help="upload size limit (default 50)")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this host name (loopback names and --host always work); repeatable",
    )
    keep = p.add_argument_group("retention (a long-running server stays within these)")
    keep.add_argument(
        "--retention-hours",
        type=_positive,
        default=24.0,
        metavar="HOURS",
        help="forget finished jobs and delete stored files after this long (default 24)",
    )
    keep.add_argument(
        "--max-storage-mb",
        type=_positive,
        default=1024.0,
        metavar="MB",
        help="delete the oldest stored files beyond this total (default 1024)",
    )
    keep.add_argument(
        "--max-jobs", type=_positive_int, default=1000, help="finished jobs remembered by request id (default 1000)"
    )
    faults = p.add_argument_group("fault injection")
    faults.add_argument("--fault-503", type=_rate, default=0.0, metavar="RATE", help="share of nginx 503s")
    faults.add_argument("--fault-429", type=_rate, default=0.0, metavar="RATE", help="share of 429s")
    faults.add_argument(
        "--fault-drop-sse", type=_rate, default=0.0, metavar="RATE", help="share of status streams closed early"
    )
    faults.add_argument(
        "--slow-start", type=_non_negative, default=0.0, metavar="SECONDS", help="extra wait before each job starts"
    )
    faults.add_argument(
        "--fail-prompt", default=None, metavar="TEXT", help="prompts containing TEXT fail with content_policy_violation"
    )
    p.set_defaults(handler=serve)


def demo(args: argparse.Namespace) -> int:
    """Run a small quality x size sweep on a private offline server and write the comparison as HTML."""
    from pathlib import Path

    from falstudio import endpoints
    from falstudio.client import Client
    from falstudio.client.errors import BudgetExceededError
    from falstudio.local import LocalServer
    from falstudio.sweep import Job, SweepRun, sweep
    from falstudio.widgets.compare import export_html

    spec = endpoints.find(args.endpoint)
    if spec is not None and spec.kind != "text-to-image":
        print(
            f"falstudio demo: {args.endpoint} is an {spec.kind} endpoint; the demo sweeps a prompt, so pick a "
            f"text-to-image one (e.g. {DEFAULT_ENDPOINT})",
            file=sys.stderr,
        )
        return 2
    try:
        variations = sweep(
            {"prompt": args.prompt},
            endpoint=args.endpoint,
            quality=["low", "medium", "high"],
            image_size=["1024x1024", "1536x1024"],
        )
    except (LookupError, ValueError) as exc:
        print(f"falstudio demo: {exc}", file=sys.stderr)
        return 2
    cost = variations.cost
    print(f"on fal.ai this sweep {'would cost' if cost.known else 'has'} {cost} ({cost.explanation})", flush=True)

    def progress(job: Job) -> None:
        if job.done:
            print(f"  {job.state:9} {job.variation.label()}", flush=True)

    # Always offline: the demo never spends money, FAL_KEY or not. A budget (--budget, else FALSTUDIO_BUDGET)
    # still applies, with offline runs priced as fal would bill them: a rehearsal behaves like the class.
    with LocalServer(port=0, latency=args.latency) as server:
        try:
            client = Client(base_url=server.url, key=server.key, history=not args.no_history, budget=args.budget)
        except ValueError as exc:  # e.g. a malformed FALSTUDIO_BUDGET
            print(f"falstudio demo: {exc}", file=sys.stderr)
            return 2
        with client:
            where = f"on the offline server at {server.url}"
            print(f"falstudio demo: {len(variations)} variations of {args.endpoint} {where}")
            run = SweepRun(variations, client, concurrency=args.concurrency, on_change=progress)
            try:
                run.start()
            except BudgetExceededError as exc:
                print(f"falstudio demo: {exc}", file=sys.stderr)
                return 1
            if not run.wait(args.timeout):
                run.cancel()
                print(f"falstudio demo: gave up after {args.timeout:g} s", file=sys.stderr)
                return 1
            out = Path(args.out).resolve()
            report = export_html(
                out / "report.html", variations, run.jobs, mode=client.mode, title="falstudio demo: quality x size"
            )
    failed = [job for job in run.jobs if job.state != "done"]
    print(f"report: {report}")
    return 1 if failed else 0


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "demo",
        help="run a small sweep offline and write an HTML report",
        description="Run a quality x size sweep on a private offline server (no key, no "
        "network, no cost) and write the comparison as one self-contained HTML file.",
    )
    p.add_argument("--out", default="falstudio-demo", help="folder for report.html (default ./falstudio-demo)")
    p.add_argument("--prompt", default=DEMO_PROMPT, help="the prompt to sweep")
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT, help=f"endpoint id (default {DEFAULT_ENDPOINT})")
    p.add_argument("--concurrency", type=_positive_int, default=4, help="requests in flight at once (default 4)")
    p.add_argument("--timeout", type=_positive, default=300.0, help="give up after this many seconds")
    p.add_argument(
        "--latency", type=_non_negative, default=1.0, help="simulated model time multiplier (default 1; 0 = instant)"
    )
    p.add_argument("--no-history", action="store_true", help="do not record the runs in falstudio's history")
    p.add_argument(
        "--budget",
        type=_non_negative,
        default=None,
        metavar="USD",
        help="refuse the sweep if its estimate passes this budget (default: $FALSTUDIO_BUDGET, if set)",
    )
    p.set_defaults(handler=demo)


def _admin_platform(args: argparse.Namespace) -> Platform:
    """The Platform API with the ADMIN key from FAL_KEY (never from the command line: shells keep history)."""
    from falstudio.client import Platform, has_key

    if not has_key():
        raise SystemExit(
            "falstudio: keys and usage need fal's ADMIN key in FAL_KEY (fal dashboard: Keys, scope ADMIN); "
            "to rehearse offline, FAL_KEY=<a local server's key> FALSTUDIO_PLATFORM_URL=<its URL>/v1"
        )
    return Platform(base_url=args.base_url)


def keys(args: argparse.Namespace) -> int:
    """``falstudio keys create|list|revoke``: a key per student; secrets go only into the --out file."""
    from falstudio.client import KeysFile, KeysPartlyCreatedError, errors, numbered_aliases

    platform = _admin_platform(args)
    try:
        if args.action == "create":
            aliases = numbered_aliases(args.alias or [], args.count)
            out = Path(args.out)
            if out.exists():
                print(f"falstudio: {out} exists; keys are written only to a new file (--out)", file=sys.stderr)
                return 1
            with KeysFile(out) as file:  # each key is written as it is made: fal shows a secret once
                try:
                    made = platform.create_keys(aliases, on_created=file.add)
                except KeysPartlyCreatedError as exc:
                    print(f"falstudio: {exc}\n  the {file.count} created are in {out}", file=sys.stderr)
                    return 1
            print(f"created {len(made)} keys ({made[0].alias} … {made[-1].alias}); their secrets are in {out} only")
        elif args.action == "list":
            for key in platform.list_keys():
                print(f"{key.alias:<32} {key.key_id:<24} {key.scope:<6} {key.created_at}")
        else:
            if not args.alias and not args.key_id:
                print("falstudio: keys revoke needs --alias PATTERN (e.g. 'student-*') or --key-id", file=sys.stderr)
                return 2
            pattern = args.alias[0] if args.alias else None
            gone = platform.revoke(pattern, key_ids=args.key_id or [])
            print(f"revoked {len(gone)} key{'s' if len(gone) != 1 else ''}: {', '.join(k.alias for k in gone) or '-'}")
    except (errors.FalError, ValueError, OSError) as exc:
        print(f"falstudio: {exc}", file=sys.stderr)
        return 1
    return 0


def usage(args: argparse.Namespace) -> int:
    """``falstudio usage --since 2h``: what each key alias spent, by endpoint."""
    from falstudio.client import errors
    from falstudio.endpoints.pricing import usd

    platform = _admin_platform(args)
    try:
        found = platform.usage(args.since, endpoint_ids=args.endpoint or [])
    except (errors.FalError, ValueError) as exc:
        print(f"falstudio: {exc}", file=sys.stderr)
        return 1
    if not found:
        print(f"no usage since {args.since}")
    for alias in found:
        print(f"{alias.alias:<32} {usd(alias.cost)} {alias.currency}")
        for line in alias.lines:
            print(f"    {line.endpoint_id:<44} {line.quantity:g} {line.unit:<10} {usd(line.cost)}")
    return 0


def _add_keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "keys",
        help="create, list and revoke API keys (a key per student; needs an ADMIN key in FAL_KEY)",
        description="Manage API keys through fal's Platform API. New keys' secrets are written only to --out "
        "(fal shows a secret once); nothing else prints them.",
    )
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument(
        "--alias",
        action="append",
        help="a key alias (repeat it), or with --count the first of a "
        "numbered series (student-01); for revoke a pattern such as 'student-*'",
    )
    p.add_argument("--count", type=_positive_int, default=None, help="create this many keys numbered from --alias")
    p.add_argument("--key-id", action="append", help="revoke: a key id (repeat it)")
    p.add_argument("--out", default="keys.csv", help="create: the new CSV file for alias,key_id,key (default keys.csv)")
    p.add_argument("--base-url", default=None, help="the Platform API (default $FALSTUDIO_PLATFORM_URL, else fal's)")
    p.set_defaults(handler=keys)


def _add_usage(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "usage",
        help="spend per key alias from fal's usage report (needs an ADMIN key in FAL_KEY)",
        description="What each key alias spent, by endpoint, from fal's Platform API (/models/usage).",
    )
    p.add_argument("--since", default="24h", help="'2h', '30m', 'today', a date... (default 24h)")
    p.add_argument("--endpoint", action="append", help="only this endpoint id (repeat it)")
    p.add_argument("--base-url", default=None, help="the Platform API (default $FALSTUDIO_PLATFORM_URL, else fal's)")
    p.set_defaults(handler=usage)


# Sub-commands, in help order. A new one is a function like _add_serve that sets ``handler``.
COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    _add_serve,
    _add_demo,
    _add_keys,
    _add_usage,
]


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
    try:
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C: the context managers have stopped servers and clients; no traceback
        print("falstudio: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
