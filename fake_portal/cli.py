"""`fake-portal serve` and `fake-portal export`: run the fake payer portals."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import socket
import sys
from datetime import date
from pathlib import Path

from fake_portal.appointments import generate_schedule, pms_appointment_rows
from fake_portal.data import generate, pms_export_rows
from fake_portal.programs import generate_programs, pms_auth_rows, pms_provider_rows
from fake_portal.world import PORTALS, World


def _dataset(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return generate(seed=args.seed, start=args.start_date, claims_per_payer=args.claims_per_payer)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from fake_portal.app import create_app

    world = World(
        _dataset(args),
        seed=args.seed,
        medicaid_idle_timeout_s=args.medicaid_idle_timeout,
        medicaid_latency_ms=args.medicaid_latency_ms,
    )
    for portal in PORTALS:
        world.faults[portal].update(
            {"latency_ms": args.latency_ms, "error_rate": args.error_rate, "layout": args.layout}
        )
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they are
    # TCP, and with Nagle on, every answer after a connection's first waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    url = f"http://{args.host}:{sock.getsockname()[1]}"
    if args.ready_file:
        # written once the socket listens, so a reader can connect straight away
        Path(args.ready_file).write_text(json.dumps({"url": url}))
    print(f"fake portal serving on {url}", flush=True)
    config = uvicorn.Config(create_app(world), log_level=args.log_level, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def export(args: argparse.Namespace) -> int:
    dataset = _dataset(args)
    programs = generate_programs(dataset, args.seed)
    rows = {
        "claims": lambda: pms_export_rows(dataset, programs.claim_auths),
        "auths": lambda: pms_auth_rows(programs),
        "providers": lambda: pms_provider_rows(dataset, programs),
        "appointments": lambda: pms_appointment_rows(generate_schedule(dataset, programs, args.seed)),
    }[args.what]()
    with open(args.out, "w", newline="") if args.out != "-" else contextlib.nullcontext(sys.stdout) as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fake-portal", description="Bundled fake payer portals.")
    sub = p.add_subparsers(dest="command", required=True)
    for name, func, help_text in (
        ("serve", serve, "serve the portals over HTTP"),
        ("export", export, "write a practice-management export (CSV)"),
    ):
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        sp.add_argument("--seed", type=int, default=7)
        sp.add_argument(
            "--start-date", type=date.fromisoformat, default=None, help="the portals' 'today' at start (default: today)"
        )
        sp.add_argument("--claims-per-payer", type=int, default=12)
    serve_p = sub.choices["serve"]
    serve_p.add_argument("--host", default="127.0.0.1")
    serve_p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve_p.add_argument("--ready-file", help='write {"url": ...} here once listening')
    serve_p.add_argument("--latency-ms", type=int, default=0)
    serve_p.add_argument("--error-rate", type=float, default=0.0)
    serve_p.add_argument("--layout", type=int, default=1, choices=(1, 2))
    serve_p.add_argument("--medicaid-latency-ms", type=int, default=150)
    serve_p.add_argument("--medicaid-idle-timeout", type=float, default=300.0)
    serve_p.add_argument("--log-level", default="warning")
    sub.choices["export"].add_argument("--out", default="-")
    sub.choices["export"].add_argument(
        "--what",
        choices=("claims", "auths", "providers", "appointments"),
        default="claims",
        help="which practice-management export to write",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    exit_code: int = args.func(args)  # argparse's Namespace is untyped
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
