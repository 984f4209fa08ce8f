"""Command line: ``python -m tiles serve|demo|catalog ...``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tiles import settings


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--token",
        default=settings.TOKEN.get(),
        help="token required to register layers when bound to a non-loopback address "
        "(default: $TILES_TOKEN)",
    )
    parser.add_argument(
        "--grpc-port",
        type=int,
        default=None,
        help="also serve the original Workflows client's gRPC API (XYZAPI) on this port",
    )
    parser.add_argument("--grpc-cert", default=None, help="PEM certificate: gRPC over TLS")
    parser.add_argument("--grpc-key", default=None, help="PEM private key of --grpc-cert")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server processes sharing the port (default: the number of CPUs, or 1 with "
        "--grpc-port); they share layers through TILES_REGISTRY and tiles through TILES_CACHE",
    )
    parser.add_argument(
        "--public-url",
        default=settings.PUBLIC_URL.get(),
        help="base URL browsers reach this server at, for gRPC XYZ tile URLs "
        "(default: http://host:port; $TILES_PUBLIC_URL)",
    )
    parser.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (such as https://maps.example.org) whose pages may register layers "
        "and use /jobs and /workflows; repeat for several (tiles are readable from any page)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``python -m tiles serve|demo|catalog ...``.

    Parameters
    ----------
    argv:
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The process exit status.

    Example
    -------
    >>> main(["catalog", "products"])  # doctest: +SKIP
    0
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["catalog", "create-vector-product"]:
        from tiles.data.vector_products import main_create_vector_product

        return main_create_vector_product(argv[2:])
    if argv[:1] == ["catalog"]:
        from tiles.data.catalog_cli import main as catalog_main

        return catalog_main(argv[1:])

    parser = argparse.ArgumentParser(prog="python -m tiles", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_arguments(commands.add_parser("serve", help="run the tile server and viewer"))
    _serve_arguments(
        commands.add_parser("demo", help="register example layers on the sample catalog and serve")
    )
    commands.add_parser("catalog", help="manage the catalog (see: python -m tiles catalog -h)")
    args = parser.parse_args(argv)

    from tiles.server import StartError, serve

    if args.command == "demo":
        from tiles.demo import register_examples
        from tiles.server.app import prepare_catalog

        prepare_catalog()  # the sample data, with a progress bar the first time
        layers = register_examples()
        shown = args.host if args.host not in ("0.0.0.0", "::") else "127.0.0.1"
        print(f"Viewer: http://{shown}:{args.port}/", flush=True)
        for layer in layers:
            print(
                f"  {layer.name}: http://{shown}:{args.port}/layers/{layer.id}/{{z}}/{{x}}/{{y}}.png"
            )
    companions = []
    if args.grpc_port is not None:
        from tiles.grpc import start as start_grpc

        def grpc_endpoint(service, base_url, token):
            return start_grpc(
                service, base_url, args.host, args.grpc_port, token, args.grpc_cert, args.grpc_key
            )

        companions.append(grpc_endpoint)
    workers = args.workers
    if companions and workers is None:
        # The original client's session logs stream from the process running the gRPC
        # endpoint, which sees the tile errors of its own process only.
        workers = 1
    try:
        serve(
            args.host,
            args.port,
            args.token,
            public_url=args.public_url,
            companions=companions,
            workers=workers,
            allow_origins=args.allow_origin,
        )
    except StartError as e:
        print(f"python -m tiles {args.command}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
