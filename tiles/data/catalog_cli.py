"""``python -m tiles catalog ...``: list, define and fill products from the command line.

Examples::

    python -m tiles catalog products
    python -m tiles catalog create-product naip --band red:0:255:0 --band green:0:255:0 ...
    python -m tiles catalog create-product s2 --band red:0:10000:0:1:0
    python -m tiles catalog add-image naip data/m_4709963_se_14_1_20090818.tif
    python -m tiles catalog add-image s2 --band-file red=B04.tif --band-file nir=B08.tif
    python -m tiles catalog images naip --json
    python -m tiles catalog remove-product naip
    python -m tiles catalog add-stac-product s2 https://earth-search.aws.element84.com/v1 \
        --collection sentinel-2-l2a --band red --band nir --band scl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from tiles.data import catalog as _catalog
from tiles.errors import ParameterError, WorkflowsError


def parse_band_spec(spec: str) -> dict[str, Any]:
    """Parse ``name:min:max[:pmin:pmax][:nodata]`` into a band dict.

    Four fields give a nodata value (``red:0:255:0``), five a physical range
    (``red:0:10000:0:1``), six both (``red:0:10000:0:1:0``); ``red:0:255:::0`` leaves the
    physical range empty.
    """
    parts = spec.split(":")
    if len(parts) < 3 or len(parts) > 6:
        raise argparse.ArgumentTypeError(
            f"band {spec!r}: expected name:min:max[:pmin:pmax][:nodata]"
        )
    try:
        band: dict[str, Any] = {
            "name": parts[0],
            "data_range": (float(parts[1]), float(parts[2])),
        }
        rest = parts[3:]
        if len(rest) in (2, 3):
            if rest[0] != "" and rest[1] != "":
                band["physical_range"] = (float(rest[0]), float(rest[1]))
            rest = rest[2:]
        if len(rest) == 1 and rest[0] != "":
            band["nodata"] = float(rest[0])
    except ValueError:
        raise argparse.ArgumentTypeError(f"band {spec!r}: numbers expected") from None
    return band


def _band_file(spec: str) -> tuple[str, str]:
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--band-file {spec!r}: expected name=path")
    return name, path


def _common() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name."""
    p = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    p.add_argument("--catalog", help="catalog file (default: $TILES_CATALOG or the cache dir)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _commands() -> dict[str, argparse.ArgumentParser]:
    """One parser per command; options and positionals may come in any order."""
    commands: dict[str, argparse.ArgumentParser] = {}

    def command(name: str, help: str) -> argparse.ArgumentParser:  # noqa: A002
        parser = argparse.ArgumentParser(
            prog=f"python -m tiles catalog {name}",
            description=help,
            parents=[_common()],
            allow_abbrev=False,
        )
        parser.help_line = help  # type: ignore[attr-defined]
        commands[name] = parser
        return parser

    command("products", "list products")

    s = command("images", "list the images of a product")
    s.add_argument("product")

    s = command("create-product", "define a product and its bands")
    s.add_argument("id")
    s.add_argument("--title", default="")
    s.add_argument(
        "--band",
        action="append",
        type=parse_band_spec,
        default=[],
        metavar="NAME:MIN:MAX[:PMIN:PMAX][:NODATA]",
        help="a band, in file band order (repeat)",
    )
    s.add_argument("--bands-json", help="JSON list of band dicts, or @file.json")

    s = command("remove-product", "remove a product and its images (files are left alone)")
    s.add_argument("id")

    s = command("add-image", "register image file(s) of a product")
    s.add_argument("product")
    s.add_argument("paths", nargs="*", help="multi-band raster(s), one image each")
    s.add_argument(
        "--band-file",
        action="append",
        type=_band_file,
        default=[],
        metavar="NAME=PATH",
        help="one file per band, making one image (repeat)",
    )
    s.add_argument("--id", dest="image_id", help="image id (default: from the file name)")
    s.add_argument("--acquired", help="acquisition date/time, ISO 8601")

    s = command("remove-image", "remove an image from the catalog")
    s.add_argument("id")

    s = command("add-stac-product", "define a product searched in a STAC API or static catalog")
    s.add_argument("id")
    s.add_argument("url", help="STAC API landing page, or static catalog/collection/item(s)")
    s.add_argument("--collection", help="the collection (needed for most APIs)")
    s.add_argument(
        "--band",
        action="append",
        default=None,
        metavar="NAME[=ASSET]",
        help="a band by asset key or eo:bands name, optionally renamed (repeat; default all)",
    )
    s.add_argument("--bands-json", help="JSON list of band names/dicts, or @file.json")
    s.add_argument("--title", default="")
    s.add_argument(
        "--timeout", type=float, help="seconds per catalog request (default $TILES_HTTP_TIMEOUT)"
    )
    s.add_argument("--signer", help="sign asset URLs (planetary-computer)")
    return commands


def _parser(commands: dict[str, argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``python -m tiles catalog`` parser, for its help and usage errors."""
    p = argparse.ArgumentParser(
        prog="python -m tiles catalog", description="Manage the image catalog.", parents=[_common()]
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, parser in commands.items():
        sub.add_parser(name, help=parser.help_line, add_help=False)  # type: ignore[attr-defined]
    return p


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The command and its arguments; options may come before or after positionals.

    Parameters
    ----------
    argv : sequence of str
        The arguments after ``python -m tiles catalog``.

    Returns
    -------
    argparse.Namespace
        ``command``, ``catalog``, ``json`` and the command's own arguments.

    Examples
    --------
    >>> args = parse_arguments(["add-image", "s2", "--acquired", "2020-02-19", "a.tif"])
    >>> args.command, args.product, args.paths, args.acquired
    ('add-image', 's2', ['a.tif'], '2020-02-19')
    """
    commands = _commands()
    top = _parser(commands)
    argv = list(argv)
    # The command is the first argument that is not a common option (or its value).
    common, rest = _common().parse_known_args(argv)
    if not rest or rest[0] not in commands:
        top.parse_args(argv)  # prints the help, or names the unknown command, and exits
    name = rest[0]
    args = commands[name].parse_intermixed_args(rest[1:])
    args.command = name
    args.catalog = args.catalog or common.catalog
    args.json = args.json or common.json
    return args


def _record_row(r: _catalog.ImageRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "acquired": r.acquired.isoformat(),
        "crs": r.crs,
        "shape": list(r.shape),
        "bounds_lonlat": [round(v, 6) for v in r.bounds_lonlat],
        "files": {k: list(v) for k, v in r.files.items()},
    }


def _product_row(p: _catalog.Product) -> dict[str, Any]:
    return {"id": p.id, "title": p.title, "bands": [b.to_dict() for b in p.bands]}


def _print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())


def _emit(args: argparse.Namespace, data: Any, header: Sequence[str], rows: Any) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print_table(rows, header)


def _bands_json(text: str) -> list[Any]:
    """``--bands-json``: a JSON list given inline or as ``@file.json``."""
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    bands = json.loads(text)
    if not isinstance(bands, list):
        raise ParameterError(f"--bands-json must be a JSON list of bands, not {text.strip()!r:.80}")
    return bands


def main(argv: list[str]) -> int:
    """Run the catalog command line with ``argv`` (without the program name); return a code."""
    args = parse_arguments(argv)
    try:
        cat = _catalog.Catalog(args.catalog) if args.catalog else _catalog.default_catalog()
        if args.command == "products":
            prods = cat.products()
            _emit(
                args,
                [_product_row(p) for p in prods],
                ["id", "title", "bands"],
                [[p.id, p.title, " ".join(p.band_names)] for p in prods],
            )
        elif args.command == "images":
            recs = cat.images(args.product)
            _emit(
                args,
                [_record_row(r) for r in recs],
                ["id", "acquired", "crs", "rows x cols"],
                [[r.id, r.acquired.isoformat(), r.crs, f"{r.shape[0]}x{r.shape[1]}"] for r in recs],
            )
        elif args.command == "create-product":
            bands = list(args.band)
            if args.bands_json:
                bands.extend(_bands_json(args.bands_json))
            if not bands:
                print("create-product: give --band or --bands-json", file=sys.stderr)
                return 2
            prod = cat.create_product(args.id, bands, title=args.title)
            _emit(args, _product_row(prod), ["id", "bands"], [[prod.id, " ".join(prod.band_names)]])
        elif args.command == "add-image":
            if bool(args.paths) == bool(args.band_file):
                print("add-image: give either PATH... or --band-file name=path", file=sys.stderr)
                return 2
            if args.image_id and len(args.paths) > 1:
                print("add-image: --id needs a single image", file=sys.stderr)
                return 2
            sources: list[Any] = list(args.paths) or [dict(args.band_file)]
            recs = [
                cat.add_image(args.product, s, image_id=args.image_id, acquired=args.acquired)
                for s in sources
            ]
            _emit(
                args,
                [_record_row(r) for r in recs],
                ["id", "acquired", "crs"],
                [[r.id, r.acquired.isoformat(), r.crs] for r in recs],
            )
        elif args.command == "remove-product":
            cat.remove_product(args.id)
            _emit(args, {"removed": args.id}, ["removed"], [[args.id]])
        elif args.command == "remove-image":
            cat.remove_image(args.id)
            _emit(args, {"removed": args.id}, ["removed"], [[args.id]])
        elif args.command == "add-stac-product":
            from tiles.data.stac import add_stac_product

            stac_bands: list[Any] | None = list(args.band) if args.band else None
            if args.bands_json:
                stac_bands = (stac_bands or []) + _bands_json(args.bands_json)
            prod = add_stac_product(
                args.id,
                args.url,
                collection=args.collection,
                bands=stac_bands,
                title=args.title,
                timeout=args.timeout,
                signer=args.signer,
                catalog=cat,
            )
            _emit(args, _product_row(prod), ["id", "bands"], [[prod.id, " ".join(prod.band_names)]])
    except (WorkflowsError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
