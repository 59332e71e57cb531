"""Run as a script under a memory limit: ``<url> <address-space MiB> <client timeout s>``. Reads the stream of
``x/hostile`` from ``url`` with falstudio's client and prints ``<error type>: <message>`` (or ``ended``)."""

from __future__ import annotations

import resource
import sys


def main(url: str, megabytes: int, timeout: float) -> None:
    limit = megabytes * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from falstudio.client import Client, errors

    with Client(base_url=url, key="id:secret", timeout=timeout, history=False) as client:
        try:
            for _event in client.stream("x/hostile", {"prompt": "a fox"}, validate=False):
                pass
        except errors.FalError as exc:
            print(f"{type(exc).__name__}: {exc}", flush=True)
            return
    print("ended", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
