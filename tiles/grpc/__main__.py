"""``python -m tiles.grpc token``: print a token the gRPC endpoint accepts.

A server started with ``--token SECRET`` (or ``$TILES_TOKEN``) accepts JWTs signed
with SECRET. The original client reads its token from ``DESCARTESLABS_TOKEN``::

    export DESCARTESLABS_TOKEN=$(python -m tiles.grpc token --secret SECRET --subject me)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tiles import settings
from tiles.grpc.auth import make_token


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tiles.grpc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a signed token for DESCARTESLABS_TOKEN")
    token.add_argument(
        "--secret",
        default=settings.TOKEN.get(),
        help="the server's --token (default: $TILES_TOKEN)",
    )
    token.add_argument("--subject", default=os.environ.get("USER", "tiles"), help="user name")
    token.add_argument("--days", type=float, default=365.0, help="validity in days (365)")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("give --secret (the server's --token) or set TILES_TOKEN")
    print(make_token(args.secret, args.subject, args.days))
    return 0


if __name__ == "__main__":
    sys.exit(main())
