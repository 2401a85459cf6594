"""Command line: `python -m kimi_jupyter.simulator [--port N] ...` serves until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence

from .directives import FLAVOURS
from .faults import FAULTS
from .server import Simulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kimi_jupyter.simulator",
        description="Serve an offline stand-in for the Kimi-K2.6 chat-completions endpoint.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument("--api-key", default="sk-simulator", help="the accepted Bearer key")
    parser.add_argument("--flavour", choices=FLAVOURS, default="moonshot", help="wire style")
    parser.add_argument(
        "--fault",
        metavar="NAME[:KIND]",
        help=f"inject this fault into chat requests: {', '.join(FAULTS)} (kinds: see faults.py)",
    )
    parser.add_argument("--fault-times", type=int, help="only into the next N requests")
    parser.add_argument(
        "--fault-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fault knob: after, retry_after, stall or at (repeatable)",
    )
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0, help="pause between events")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="pause before headers")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator in the foreground until interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    params = dict(item.partition("=")[::2] for item in args.fault_param)
    sim = Simulator(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        flavour=args.flavour,
        chunk_delay_ms=args.chunk_delay_ms,
        latency_ms=args.latency_ms,
    )
    try:
        sim.set_fault(args.fault, args.fault_times, **params)
    except ValueError as exc:
        parser.error(str(exc))
    # SIGTERM (e.g. from a test harness) should stop as cleanly as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with sim:
        sys.stdout.write(f"Kimi simulator listening on {sim.base_url}\n")
        sys.stdout.write(f"  KIMI_BASE_URL={sim.base_url} KIMI_API_KEY={sim.api_key}\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
