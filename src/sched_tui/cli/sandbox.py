"""``sched-tui sandbox``: serve the bundled Zocdoc-compatible sandbox over HTTP."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from sched_tui.config import SandboxFaults


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sandbox`` subcommand."""
    parser = subparsers.add_parser(
        "sandbox",
        help="serve the demo Zocdoc sandbox over HTTP",
        description="Serve an invented therapy practice through a local copy of Zocdoc's partner "
        "API, with optional injected faults. Point a [[providers]] entry of kind zocdoc at it "
        "with base_url. Stop it with Ctrl-C.",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="TCP port (default: 8765; 0 picks a free one)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1; the admin endpoints need no token)",
    )
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="latency added to every request, in ms"
    )
    parser.add_argument(
        "--error-rate",
        type=_share,
        default=0.0,
        help="share of requests that get a 503 response (0 to 1)",
    )
    parser.add_argument(
        "--rate-limit-rate",
        type=_share,
        default=0.0,
        help="share of requests that get a 429 response (0 to 1)",
    )
    parser.add_argument(
        "--retry-after-s", type=int, default=1, help="Retry-After sent with 429, in seconds"
    )
    parser.add_argument(
        "--timeout-rate",
        type=_share,
        default=0.0,
        help="share of requests delayed 60 s, then given a 503 response",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed of the demo data and of the fault draws"
    )
    parser.add_argument(
        "--token-ttl-s", type=int, default=3600, help="lifetime of access tokens, in seconds"
    )
    parser.set_defaults(handler=run)


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox until interrupted; return the exit status."""
    from sched_tui.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, create_app
    from sched_tui.sandbox.server import serve

    if not _is_loopback(args.host):
        print(
            f"warning: listening on {args.host}; the sandbox's admin endpoints are reachable "
            "from other machines without a token",
            file=sys.stderr,
        )
    faults = SandboxFaults(
        latency_ms=args.latency_ms,
        rate_limit_rate=args.rate_limit_rate,
        retry_after_s=args.retry_after_s,
        error_rate=args.error_rate,
        timeout_rate=args.timeout_rate,
        seed=args.seed,
    )
    app = create_app(faults=faults, seed=args.seed, token_ttl_s=args.token_ttl_s)
    base_url = f"http://{args.host}:{args.port}"
    print(f"Zocdoc sandbox on {base_url} (token endpoint {base_url}/oauth/token)")
    print(f"Demo credentials: ZOCDOC_CLIENT_ID={DEMO_CLIENT_ID}")
    print(f"                  ZOCDOC_CLIENT_SECRET={DEMO_CLIENT_SECRET}")
    try:
        serve(app, host=args.host, port=args.port)
    except KeyboardInterrupt:
        pass
    except OSError as error:
        print(f"sched-tui: could not listen on {base_url}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
