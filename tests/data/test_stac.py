"""STAC products: real items parsed, real COGs read over HTTP from a local server.

A tornado server on 127.0.0.1 serves the real Sentinel-2 COGs (with range requests), a
static catalog built from the real Earth Search item, and two small STAC APIs: one holding
that item, one the 13 real Planetary Computer items of tile 35MNM (June-July 2020). Pixels
read through HTTP are compared with rasterio warping the same files from disk.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

import mercantile
import numpy as np
import pytest
import rasterio
import shapely
import shapely.geometry
import tornado.httpserver
import tornado.netutil
import tornado.web
from rasterio.enums import Resampling
from rasterio.warp import reproject

import tiles as wf
from tests.support import S2
from tiles.data import catalog, stac
from tiles.data.catalog import Catalog
from tiles.data.catalog_cli import main as catalog_main
from tiles.data.stac.fetch import SIGNERS
from tiles.data.stac.search import SourceSpec, _cells
from tiles.errors import DataError, NotFoundError, ParameterError
from tiles.geocontext import AOI

S2_ITEM = "S2A_29RKH_20200219_0_L2A"
STAC = "stac"
PC = "stac/planetary_computer"
# Inside tile 29RKH, in Web Mercator at 150 m: coarser than the 100 m bands but not by the
# factor 2 that would pick an overview, so reads use full resolution like the reference.
S2_AOI = AOI(
    bounds=(-11.6, 24.6, -11.3, 24.9), bounds_crs="EPSG:4326", crs="EPSG:3857", resolution=150.0
)
JUNE = ("2020-06-01", "2020-07-01")
TILE_35MNM = (27.2, -8.0, 27.8, -7.5)


# ------------------------------------------------------------------------ local server


class _Api:
    """A minimal STAC API over a list of items: landing page, search, collections, items."""

    def __init__(self, items: list[dict], collection: dict, post_paging: bool) -> None:
        self.items = items
        self.collection = collection
        self.post_paging = post_paging
        self.calls: Counter[str] = Counter()


def _overlaps(item: dict, bbox: list[float]) -> bool:
    w, s, e, n = item["bbox"][:4]
    return not (e < bbox[0] or w > bbox[2] or n < bbox[1] or s > bbox[3])


def _in_range(item: dict, interval: str) -> bool:
    start, _, end = interval.partition("/")
    when = stac.item_datetime(item)
    if start not in ("", "..") and when < catalog.to_utc(start):
        return False
    return end in ("", "..") or when <= catalog.to_utc(end)


class _Landing(tornado.web.RequestHandler):
    def initialize(self, api: _Api) -> None:
        self.api = api

    def get(self) -> None:
        base = f"{self.request.protocol}://{self.request.host}{self.request.path.rstrip('/')}"
        self.write(
            {
                "type": "Catalog",
                "id": "local-api",
                "stac_version": "1.0.0",
                "description": "test API",
                "conformsTo": ["https://api.stacspec.org/v1.0.0/item-search"],
                "links": [{"rel": "search", "href": f"{base}/search", "method": "GET"}],
            }
        )


class _Search(tornado.web.RequestHandler):
    def initialize(self, api: _Api) -> None:
        self.api = api

    def _answer(self, params: dict[str, Any]) -> None:
        api = self.api
        api.calls["search"] += 1
        found = api.items
        if params.get("collections"):
            found = [i for i in found if i.get("collection") in params["collections"]]
        if params.get("ids"):
            found = [i for i in found if i["id"] in params["ids"]]
        if params.get("bbox"):
            found = [i for i in found if _overlaps(i, params["bbox"])]
        if params.get("datetime"):
            found = [i for i in found if _in_range(i, params["datetime"])]
        limit, offset = int(params.get("limit") or 10), int(params.get("token") or 0)
        page = found[offset : offset + limit]
        links = []
        if offset + limit < len(found):
            url = f"{self.request.protocol}://{self.request.host}{self.request.path}"
            if api.post_paging:
                links.append(
                    {
                        "rel": "next",
                        "href": url,
                        "method": "POST",
                        "body": {**params, "token": offset + limit},
                    }
                )
            else:
                query = {k: v for k, v in self.request.query_arguments.items()}
                query = {k: v[0].decode() for k, v in query.items()}
                query["token"] = str(offset + limit)
                links.append({"rel": "next", "href": f"{url}?{urllib.parse.urlencode(query)}"})
        self.set_header("Content-Type", "application/geo+json")
        self.write(json.dumps({"type": "FeatureCollection", "features": page, "links": links}))

    def get(self) -> None:
        q = {k: v[0].decode() for k, v in self.request.query_arguments.items()}
        params: dict[str, Any] = {"limit": q.get("limit"), "token": q.get("token")}
        params["datetime"] = q.get("datetime")
        if "collections" in q:
            params["collections"] = q["collections"].split(",")
        if "ids" in q:
            params["ids"] = q["ids"].split(",")
        if "bbox" in q:
            params["bbox"] = [float(v) for v in q["bbox"].split(",")]
        self._answer(params)

    def post(self) -> None:
        self._answer(json.loads(self.request.body))


class _Collection(tornado.web.RequestHandler):
    def initialize(self, api: _Api) -> None:
        self.api = api

    def get(self, cid: str) -> None:
        if cid != self.api.collection["id"]:
            raise tornado.web.HTTPError(404)
        self.write(self.api.collection)


class _Item(tornado.web.RequestHandler):
    def initialize(self, api: _Api) -> None:
        self.api = api

    def get(self, cid: str, iid: str) -> None:
        self.api.calls["item"] += 1
        for item in self.api.items:
            if item.get("collection") == cid and item["id"] == iid:
                self.write(item)
                return
        raise tornado.web.HTTPError(404)


class _Slow(tornado.web.RequestHandler):
    async def get(self) -> None:
        await asyncio.sleep(3)
        self.write({"type": "Catalog", "links": []})


class LocalServer:
    """A tornado application on 127.0.0.1 in its own thread and event loop."""

    def __init__(self, app: tornado.web.Application) -> None:
        self._ready = threading.Event()
        self._app = app
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        server = tornado.httpserver.HTTPServer(self._app)
        server.add_sockets(sockets)
        self._ready.set()
        self.loop.run_forever()
        server.stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)


def _local_item(item: dict, href_of: Any) -> dict:
    """The real item with every asset href pointing at the local server."""
    out = copy.deepcopy(item)
    for asset in out["assets"].values():
        asset["href"] = href_of(asset["href"].rsplit("/", 1)[-1])
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shared_data: Path):
    """The server, the static catalog's URLs, and the two APIs' state."""
    root = tmp_path_factory.mktemp("stac_site")
    s2_item = json.loads((shared_data / S2 / f"{S2_ITEM}.json").read_text())
    pc_items = json.loads((shared_data / PC / "site2-2020_jun_jul-35MNM.geojson").read_text())
    pc_collection = json.loads((shared_data / PC / "sentinel-2-l2a.collection.json").read_text())
    es_api = _Api([], {"type": "Collection", "id": "sentinel-2-l2a", "links": []}, False)
    pc_api = _Api(pc_items["features"], pc_collection, True)
    handlers: list[Any] = [
        (r"/cogs/(.*)", tornado.web.StaticFileHandler, {"path": str(shared_data / S2)}),
        (r"/static/(.*)", tornado.web.StaticFileHandler, {"path": str(root)}),
        (r"/slow", _Slow),
    ]
    for prefix, api in (("/es", es_api), ("/pc", pc_api)):
        handlers += [
            (rf"{prefix}/?", _Landing, {"api": api}),
            (rf"{prefix}/search", _Search, {"api": api}),
            (rf"{prefix}/collections/([^/]+)", _Collection, {"api": api}),
            (rf"{prefix}/collections/([^/]+)/items/([^/]+)", _Item, {"api": api}),
        ]
    server = LocalServer(tornado.web.Application(handlers))
    base = server.base

    # The API item: absolute hrefs on the local server.
    es_api.items.append(_local_item(s2_item, lambda name: f"{base}/cogs/{name}"))
    # The static catalog: catalog -> collection -> item, with hrefs relative to the item.
    item_dir = root / "sentinel-2-l2a" / S2_ITEM
    item_dir.mkdir(parents=True)
    static_item = _local_item(s2_item, lambda name: f"../../../cogs/{name}")
    (item_dir / f"{S2_ITEM}.json").write_text(json.dumps(static_item))
    collection = {
        "type": "Collection",
        "id": "sentinel-2-l2a",
        "stac_version": "1.0.0",
        "title": "Sentinel-2 L2A (local copy)",
        "description": "one real item",
        "license": "proprietary",
        "extent": {},
        "links": [{"rel": "item", "href": f"./{S2_ITEM}/{S2_ITEM}.json"}],
    }
    (root / "sentinel-2-l2a" / "collection.json").write_text(json.dumps(collection))
    cat_doc = {
        "type": "Catalog",
        "id": "local",
        "stac_version": "1.0.0",
        "description": "a static catalog",
        "links": [{"rel": "child", "href": "./sentinel-2-l2a/collection.json"}],
    }
    (root / "catalog.json").write_text(json.dumps(cat_doc))
    (root / "broken.json").write_text('{"type": "Catalog", "links": [')
    yield {
        "base": base,
        "root": root,
        "catalog": f"{base}/static/catalog.json",
        "es": es_api,
        "pc": pc_api,
    }
    server.stop()


@pytest.fixture(autouse=True)
def fresh_cache():
    stac.clear_cache()
    yield


def disk_band(path: Path, geoctx: AOI) -> np.ma.MaskedArray:
    """Raw values of a band warped (nearest) by rasterio from disk; nodata and outside masked."""
    out = np.full(geoctx.arr_shape, np.nan, dtype=np.float64)
    with rasterio.open(path) as src:
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=geoctx.transform,
            dst_crs=geoctx.crs,
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    return np.ma.masked_invalid(out)


def assert_same_pixels(got: np.ma.MaskedArray, expected: np.ma.MaskedArray) -> None:
    np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(expected))
    valid = ~np.ma.getmaskarray(expected)
    assert valid.sum() > 1000
    np.testing.assert_allclose(got.data[valid], expected.data[valid], rtol=1e-12, atol=0)


# ------------------------------------------------------------------------ pixels over HTTP


def test_static_catalog_over_http_reads_the_same_pixels_as_disk(site, shared_data: Path):
    product = catalog.add_stac_product(
        "stac-static", site["catalog"], collection="sentinel-2-l2a", bands=["red", "nir", "scl"]
    )
    assert product.band_names == ["red", "nir", "scl"]
    assert product.title == "Sentinel-2 L2A (local copy)"
    info = product.bandinfo()
    # raster:bands: uint16 with scale 0.0001 for reflectance, uint8 unscaled for SCL.
    assert info["red"]["data_range"] == (0, 65535)
    assert info["red"]["physical_range"] == pytest.approx((0, 6.5535))
    assert info["red"]["nodata"] == 0
    assert info["scl"]["data_range"] == info["scl"]["physical_range"] == (0, 255)

    ic = wf.ImageCollection.from_id("stac-static", "2020-02-01", "2020-03-01")
    result = ic.pick_bands("red nir scl").compute(S2_AOI)
    assert result.ndarray.shape[:2] == (1, 3)
    red, nir = (disk_band(shared_data / S2 / f, S2_AOI) for f in ("B04.tif", "B08.tif"))
    assert_same_pixels(result.ndarray[0, 0], red * 0.0001)
    assert_same_pixels(result.ndarray[0, 1], nir * 0.0001)
    assert_same_pixels(result.ndarray[0, 2], disk_band(shared_data / S2 / "SCL.tif", S2_AOI))
    props = result.properties[0]
    assert props["id"] == f"stac-static:{S2_ITEM}"
    assert props["date"].isoformat() == "2020-02-19T11:34:25.405000+00:00"
    assert props["cloud_fraction"] == pytest.approx(0.04051854)
    assert props["crs"] == "EPSG:32629"
    assert props["geotrans"] == (199980.0, 10.0, 0.0, 2800020.0, 0.0, -10.0)
    assert props["s2:processing_baseline"] == "02.14"  # other properties as they are
    # Relative hrefs were resolved against the item's URL.
    record = catalog.image(f"stac-static:{S2_ITEM}")
    assert record.files["red"] == (f"{site['base']}/cogs/B04.tif", 1)


def test_api_product_reads_scaled_pixels_and_loads_single_images(site, shared_data: Path):
    catalog.add_stac_product(
        "stac-es", f"{site['base']}/es", collection="sentinel-2-l2a", bands=["red", "aot"]
    )
    assert catalog.product("stac-es").bandinfo()["aot"]["physical_range"] == pytest.approx(
        (0, 65.535)  # AOT: scale 0.001
    )
    ic = wf.ImageCollection.from_id("stac-es", "2020-01-01", "2020-12-31")
    got = ic.compute(S2_AOI).ndarray
    aot = disk_band(shared_data / S2 / "AOT.tif", S2_AOI)
    assert_same_pixels(got[0, 1], aot * 0.001)

    calls = site["es"].calls["item"]
    image = wf.Image.from_id(f"stac-es:{S2_ITEM}").pick_bands("red").compute(S2_AOI)
    assert site["es"].calls["item"] == calls + 1  # fetched from /collections/../items/..
    assert_same_pixels(image.ndarray[0], disk_band(shared_data / S2 / "B04.tif", S2_AOI) * 1e-4)
    with pytest.raises(NotFoundError, match="S2A_29RKH_20200101"):
        catalog.image("stac-es:S2A_29RKH_20200101_0_L2A")


def test_tile_server_tile_over_http_matches_disk(site, shared_data: Path, tmp_path: Path):
    server_mod = pytest.importorskip("tiles.server")
    from tests.server.support import (
        assert_pixels_match,
        expected_rgba,
        fetch_tile,
        grid_transform,
        image_graft,
        register,
    )

    catalog.add_stac_product(
        "stac-tiles", f"{site['base']}/es", collection="sentinel-2-l2a", bands=["red"]
    )
    image_id = f"stac-tiles:{S2_ITEM}"
    srv = server_mod.RunningServer("127.0.0.1", 0, db_path=tmp_path / "layers.sqlite")
    try:
        layer = register(srv.base_url, image_graft(image_id, "red"), scales=[[0, 0.3]])
        w, s, e, n = catalog.image(image_id).bounds_lonlat
        tile = mercantile.tile((w + e) / 2, (s + n) / 2, 10)  # ~140 m pixels: full resolution
        got = fetch_tile(layer, tile)
    finally:
        srv.stop()
    transform, shape = grid_transform(tile)
    out = np.full(shape, np.nan)
    with rasterio.open(shared_data / S2 / "B04.tif") as src:
        reproject(
            rasterio.band(src, 1),
            out,
            dst_transform=transform,
            dst_crs="EPSG:3857",
            dst_nodata=np.nan,
            resampling=Resampling.nearest,
        )
    ref = np.ma.masked_invalid(out) * 1e-4
    assert_pixels_match(got, expected_rgba([ref], [(0, 0.3)]))


# ------------------------------------------------------------------------ API search


def test_api_search_pages_filters_and_sorts(site):
    pc = site["pc"]
    product = catalog.add_stac_product(
        "stac-pc", f"{site['base']}/pc", collection="sentinel-2-l2a", bands=["B04", "B08", "SCL"],
        page_size=5,
    )  # fmt: skip
    # item_assets of the real collection supply the data types the items leave out.
    assert product.bandinfo()["B04"]["data_range"] == (0, 65535)
    assert product.bandinfo()["SCL"]["data_range"] == (0, 255)
    assert product.bandinfo()["B04"]["description"] == "Band 4 - Red"

    before = pc.calls["search"]
    everything = catalog.search("stac-pc", bbox_lonlat=TILE_35MNM)
    assert pc.calls["search"] - before == 3  # 13 items, 5 a page, via POST "next" links
    assert len(everything) == 13
    dates = [r.acquired for r in everything]
    assert dates == sorted(dates)

    june = catalog.search("stac-pc", *JUNE, bbox_lonlat=TILE_35MNM)
    assert [r.acquired.day for r in june] == [1, 6, 11, 16, 21, 26]
    assert all(r.acquired.month == 6 for r in june)
    first = june[0]
    assert first.crs == "EPSG:32735"
    assert first.geotrans == (499980.0, 10.0, 0.0, 9200020.0, 0.0, -10.0)
    assert first.shape == (10980, 10980)
    raw = next(
        f for f in pc.items if f["id"] == first.id.split(":", 1)[1]
    )  # the served item, for its own numbers
    assert first.properties_dict()["cloud_fraction"] == pytest.approx(
        raw["properties"]["eo:cloud_cover"] / 100
    )
    assert first.files["B04"][0] == raw["assets"]["B04"]["href"]

    assert len(catalog.search("stac-pc", *JUNE, bbox_lonlat=TILE_35MNM, limit=2)) == 2
    # A box across the antimeridian (west > east) is asked as its two halves.
    across = catalog.search("stac-pc", *JUNE, bbox_lonlat=(179.0, -8.0, 27.5, -7.5))
    assert [r.id for r in across] == [r.id for r in june]
    assert catalog.search("stac-pc", *JUNE, bbox_lonlat=(-11.6, 24.6, -11.3, 24.9)) == []


def test_searches_are_cached_for_neighbouring_tiles(site):
    catalog.add_stac_product(
        "stac-pc-cache", f"{site['base']}/pc", collection="sentinel-2-l2a", bands=["B04"]
    )
    pc = site["pc"]
    # The zoom-11 tiles inside one half-degree cell of the search grid.
    cell = (27.0, -8.0, 27.5, -7.5)
    tiles_ = [
        t
        for t in mercantile.tiles(*cell, 11)
        if cell[0] <= (b := mercantile.bounds(t)).west
        and b.east <= cell[2]
        and cell[1] <= b.south
        and b.north <= cell[3]
    ]
    assert len(tiles_) >= 4
    before = pc.calls["search"]
    for t in tiles_:
        b = mercantile.bounds(t)
        box = (b.west, b.south, b.east, b.north)
        assert _cells(box) == [cell]
        assert len(catalog.search("stac-pc-cache", *JUNE, box)) == 6
    assert pc.calls["search"] - before == 1  # one query, answered from the cache after
    stac.clear_cache()
    catalog.search("stac-pc-cache", *JUNE, box)
    assert pc.calls["search"] - before == 2


def test_search_grid_cells_cover_the_request():
    for box in [(27.2, -8.0, 27.3, -7.9), (-0.01, -0.01, 0.01, 0.01), (170.0, 60.0, 179.9, 70.0)]:
        cells = _cells(box)
        assert 1 <= len(cells) <= 4
        union = shapely.union_all([shapely.geometry.box(*c) for c in cells])
        assert union.contains(shapely.geometry.box(*box))


# ------------------------------------------------------------------------ real items


def _load(shared_data: Path, rel: str) -> list[dict]:
    items = stac.load_static(str(shared_data / rel))[0]
    return [i.make_asset_hrefs_absolute().to_dict(transform_hrefs=False) for i in items]


def _product(specs, bands, pid="p") -> catalog.Product:
    return catalog.Product(pid, pid, bands)


def _parse(item: dict, bands=None, item_assets=None):
    # read_header=False: the hrefs of these captured items are on the internet.
    specs, product_bands = stac.select_bands(item, bands, item_assets, read_header=False)
    product = _product(specs, product_bands)
    return specs, product, stac.item_record(product, item, specs, "/")


def test_earth_search_v1_item(shared_data: Path):
    (item,) = _load(shared_data, f"{S2}/{S2_ITEM}.json")
    specs, product, rec = _parse(item)
    names = product.band_names
    assert "red" in names and "scl" in names and "aot" in names
    assert not any(n.endswith("jp2") for n in names)  # the JP2 copies of the COGs
    assert "visual" not in names and "thumbnail" not in names
    assert "granule_metadata" not in names and "tileinfo_metadata" not in names
    red = product.band("red")
    assert red.physical_range == pytest.approx((0.0, 6.5535)) and red.nodata == 0
    assert red.description == "Red (band 4)"
    assert rec.crs == "EPSG:32629" and rec.shape == (10980, 10980)
    assert rec.acquired.isoformat() == "2020-02-19T11:34:25.405000+00:00"
    assert rec.properties["cloud_fraction"] == pytest.approx(0.04051854)
    assert rec.band_overrides == {}


def test_planetary_computer_items(shared_data: Path):
    collection = json.loads((shared_data / PC / "sentinel-2-l2a.collection.json").read_text())
    items = _load(shared_data, f"{PC}/sentinel-2-l2a-pc.json")
    assert len(items) == 4
    specs, product, _ = _parse(items[0], item_assets=collection["item_assets"])
    assert product.band_names == [
        "AOT",
        "B01",
        "B02",
        "B03",
        "B04",
        "B05",
        "B06",
        "B07",
        "B08",
        "B09",
        "B11",
        "B12",
        "B8A",
        "SCL",
        "WVP",
    ]  # fmt: skip  (the "visual" composite repeats B04/B03/B02 and is left out)
    assert product.band("B04").data_range == (0, 65535)
    assert product.band("SCL").data_range == (0, 255)
    crs = {stac.item_record(product, i, specs, "/").crs for i in items}
    assert crs == {"EPSG:32646", "EPSG:32647"}

    (landsat, *_) = _load(shared_data, f"{PC}/landsat-c2-l2-pc.json")
    specs, product, rec = _parse(landsat)
    assert "tilejson" not in product.band_names and "rendered_preview" not in product.band_names
    assert "qa_pixel" in product.band_names  # roles "cloud"... without "data": still a band
    red = product.band("red")
    assert red.data_range == (0, 65535) and red.nodata == 0
    assert red.physical_range == pytest.approx((-0.2, 65535 * 2.75e-05 - 0.2))
    assert product.band("lwir11").physical_range == pytest.approx((149.0, 65535 * 0.00341802 + 149))
    assert product.band("qa").data_range == (-32768, 32767)  # int16 with scale 0.01
    assert product.band("qa").physical_range == pytest.approx((-327.68, 327.67))
    assert product.band("qa_pixel").nodata == 1
    assert rec.crs == "EPSG:32655" and rec.geotrans[1] == 30.0
    assert rec.properties["cloud_fraction"] == pytest.approx(0.9754)

    (naip, *_) = _load(shared_data, f"{PC}/naip-pc.json")
    specs, product, rec = _parse(naip)
    assert product.band_names == ["red", "green", "blue", "nir"]  # one 4-band asset
    assert [(s.asset, s.bidx) for s in specs] == [("image", i) for i in (1, 2, 3, 4)]
    assert rec.files["nir"][1] == 4 and rec.crs == "EPSG:26920"

    (dem, *_) = _load(shared_data, f"{PC}/cop-dem-glo-30-pc.json")
    specs, product, rec = _parse(dem)
    assert product.band_names == ["data"]
    # No data type given (and the file not read): floats kept as they are.
    assert product.band("data").data_range == product.band("data").physical_range
    assert rec.crs == "EPSG:4326"

    (lulc, *_) = _load(shared_data, f"{PC}/io-lulc-annual-v02-pc.json")
    _, _, rec = _parse(lulc)
    assert rec.properties["datetime"] is None  # a yearly product: start_datetime instead
    assert rec.acquired.isoformat() == "2023-01-01T00:00:00+00:00"


def test_earth_search_v0_usgs_and_dea_items(shared_data: Path):
    (v0,) = _load(shared_data, f"{STAC}/earth_search_v0/S2A_28QCH_20200714_0_L2A.json")
    _, product, rec = _parse(v0)
    assert product.band_names[:2] == ["B01", "B02"] and "SCL" in product.band_names
    for left_out in ("overview", "visual", "thumbnail", "info", "metadata"):
        assert left_out not in product.band_names  # no roles: told by their keys and types
    assert rec.crs == "EPSG:32628" and rec.properties["cloud_fraction"] == pytest.approx(0.0236)
    (v0b,) = _load(shared_data, f"{STAC}/earth_search_v0/S2A_31NBJ_20190524_0_L2A.json")
    _, product, _ = _parse(v0b, ["red=B04", "nir"])  # eo:bands common names pick assets
    assert product.band_names == ["red", "nir"]

    (usgs,) = _load(shared_data, f"{STAC}/usgs_landsatlook/LC08_L2SP_028030_20200114_20200824_02_T1_SR.json")  # fmt: skip
    _, product, rec = _parse(usgs)
    assert product.band_names[:3] == ["coastal", "blue", "green"]
    assert "qa_aerosol" in product.band_names and "MTL.txt" not in product.band_names
    assert rec.crs == "EPSG:32615" and rec.geotrans == (173085.0, 30.0, 0.0, 4904715.0, 0.0, -30.0)

    (dea,) = _load(shared_data, f"{STAC}/dea/ga_ls8c_ard_3-1-0_088080_2020-05-25_final.stac-item.json")  # fmt: skip
    _, product, rec = _parse(dea)
    assert "nbart_red" in product.band_names and "oa_fmask" in product.band_names
    assert rec.crs == "EPSG:32656"
    assert rec.geotrans[1] == 15.0  # the panchromatic band is the finest grid
    assert rec.properties["cloud_fraction"] == pytest.approx(0.4242102985910952)
    assert "collection" not in rec.properties  # the item names none


def test_stac_0_7_item_with_local_files_and_user_scale(shared_data: Path, tmp_path: Path):
    folder = shared_data / "optical/landsat8_c2l2_001062_20201031"
    item = json.loads(next(folder.glob("*_SR_stac.json")).read_text())
    for asset in item["assets"].values():
        asset["href"] = str(folder / asset["href"].rsplit("/", 1)[-1])
    (tmp_path / "item.json").write_text(json.dumps(item))
    cat = Catalog(tmp_path / "cat.sqlite")
    product = stac.add_stac_product(
        "l8",
        str(tmp_path / "item.json"),
        bands=["SR_B4.TIF", {"name": "nir", "asset": "SR_B5.TIF", "scale": 2.75e-5, "offset": -0.2}],
        catalog=cat,
    )  # fmt: skip
    assert product.band_names == ["SR_B4", "nir"]  # eo:bands given as indices (STAC 0.7)
    assert product.band("SR_B4").description == "Red Band (B4)"  # asset title
    assert product.band("SR_B4").data_range == (0, 65535)  # from the file: the item has none
    assert product.band("nir").physical_range == pytest.approx((-0.2, 65535 * 2.75e-5 - 0.2))
    (rec,) = cat.search("l8", "2020-10-31", "2020-11-01")
    assert rec.crs == "EPSG:4326"  # no proj:* in the item: its lon/lat box
    assert rec.properties_dict()["cloud_fraction"] == pytest.approx(0.9994)
    with rasterio.open(folder / rec.files["nir"][0]) as src:
        grid = {"bounds": tuple(src.bounds), "bounds_crs": "EPSG:32620", "crs": "EPSG:32620"}
    geoctx = AOI(**grid, resolution=600.079)
    from tiles.data.reading import CatalogSource

    got = CatalogSource([rec], product, geoctx).read([0], ["nir"])[0, 0]
    expected = disk_band(folder / rec.files["nir"][0], geoctx)
    expected = np.ma.masked_equal(expected, 0) * 2.75e-5 - 0.2  # the file's nodata is 0
    assert_same_pixels(got, expected)


def test_images_keep_their_own_scale(shared_data: Path):
    (item,) = _load(shared_data, f"{S2}/{S2_ITEM}.json")
    specs, product, _ = _parse(item, ["red"])
    newer = copy.deepcopy(item)  # as baseline 04.00 items say it: a -0.1 offset
    newer["assets"]["red"]["raster:bands"][0]["offset"] = -0.1
    rec = stac.item_record(product, newer, specs, "/")
    assert rec.band_overrides["red"].physical_range == pytest.approx((-0.1, 6.4535))
    fixed_specs, fixed, _ = _parse(item, [{"name": "red", "scale": 1e-4, "offset": 0}])
    assert stac.item_record(fixed, newer, fixed_specs, "/").band_overrides == {}


# ------------------------------------------------------------------------ errors


def test_bad_catalogs_give_clear_errors(site, tmp_path: Path):
    cat = Catalog(tmp_path / "cat.sqlite")
    base = site["base"]
    with pytest.raises(DataError, match="broken.json is not valid JSON"):
        stac.add_stac_product("x", f"{base}/static/broken.json", catalog=cat)
    with pytest.raises(NotFoundError, match="HTTP 404"):
        stac.add_stac_product("x", f"{base}/static/nothing.json", catalog=cat)
    with pytest.raises(NotFoundError, match="not found"):
        stac.add_stac_product("x", str(tmp_path / "missing.json"), catalog=cat)
    with pytest.raises(ParameterError, match="no asset or eo:bands name 'swir3'"):
        stac.add_stac_product("x", site["catalog"], bands=["swir3"], catalog=cat)
    with pytest.raises(NotFoundError, match="collection 'nope' not found"):
        stac.add_stac_product("x", f"{base}/es", collection="nope", catalog=cat)
    with pytest.raises(DataError, match="did not answer within"):
        stac.read_json(f"{base}/slow", timeout=0.5)
    # A closed port on this machine: nothing listens there.
    with pytest.raises(DataError, match="cannot reach http://127.0.0.1:1/"):
        stac.add_stac_product("x", "http://127.0.0.1:1/", catalog=cat)
    assert cat.products() == []


def test_request_timeout_defaults_to_the_setting(site, monkeypatch):
    monkeypatch.setenv("TILES_HTTP_TIMEOUT", "1")  # the /slow handler answers after 3 s
    with pytest.raises(DataError, match="did not answer within 1 s"):
        stac.read_json(f"{site['base']}/slow")


def _write(path: Path, doc: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def test_static_walk_stays_inside_the_catalog(shared_data: Path, tmp_path: Path):
    # A copied catalog whose root, parent and collection links point to its old home (here
    # a closed port): the walk goes down from the given document and never fetches them.
    gone = "http://127.0.0.1:1/catalog.json"
    item = json.loads((shared_data / S2 / f"{S2_ITEM}.json").read_text())
    item["links"] += [{"rel": "root", "href": gone}, {"rel": "collection", "href": gone}]
    item["assets"] = {"red": {**item["assets"]["red"], "href": "./B04.tif"}}
    _write(tmp_path / "cat" / "s2" / "item.json", item)
    _write(
        tmp_path / "cat" / "s2" / "collection.json",
        {"type": "Collection", "id": "sentinel-2-l2a", "stac_version": "1.0.0",
         "description": "d", "license": "proprietary",
         "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]},
                    "temporal": {"interval": [[None, None]]}},
         "links": [{"rel": "root", "href": gone}, {"rel": "parent", "href": gone},
                   {"rel": "item", "href": "./item.json"}]},
    )  # fmt: skip
    _write(
        tmp_path / "cat" / "catalog.json",
        {"type": "Catalog", "id": "c", "stac_version": "1.0.0", "description": "d",
         "links": [{"rel": "root", "href": gone},
                   {"rel": "child", "href": "./s2/collection.json"}]},
    )  # fmt: skip
    items, collections = stac.load_static(str(tmp_path / "cat" / "catalog.json"))
    assert [i.id for i in items] == [S2_ITEM] and list(collections) == ["sentinel-2-l2a"]
    # Relative hrefs resolve next to the item's copy, not at its self link elsewhere.
    assert items[0].assets["red"].get_absolute_href() == str(tmp_path / "cat" / "s2" / "B04.tif")

    # A catalog whose child links lead back to it: a clear error, not an endless walk.
    _write(
        tmp_path / "loop" / "catalog.json",
        {"type": "Catalog", "id": "a", "stac_version": "1.0.0", "description": "d",
         "links": [{"rel": "child", "href": "./b/catalog.json"}]},
    )  # fmt: skip
    _write(
        tmp_path / "loop" / "b" / "catalog.json",
        {"type": "Catalog", "id": "b", "stac_version": "1.0.0", "description": "d",
         "links": [{"rel": "child", "href": "../catalog.json"}]},
    )  # fmt: skip
    with pytest.raises(DataError, match="links back to itself"):
        stac.load_static(str(tmp_path / "loop" / "catalog.json"))


def test_unreachable_api_after_definition(site, tmp_path: Path):
    cat = Catalog(tmp_path / "cat.sqlite")
    stac.add_stac_product("es", f"{site['base']}/es", collection="sentinel-2-l2a",
                          bands=["red"], catalog=cat)  # fmt: skip
    kind, spec = cat.product_source("es")
    assert kind == "stac" and spec["search_url"] == f"{site['base']}/es/search"
    # The same product pointing at a closed port: a clear error, quickly remembered.
    cat2 = Catalog(tmp_path / "cat2.sqlite")
    spec["search_url"] = "http://127.0.0.1:1/search"
    cat2.create_product("es", cat.product("es").bands, source=("stac", spec))
    with pytest.raises(DataError, match="cannot reach http://127.0.0.1:1/search"):
        cat2.search("es", bbox_lonlat=S2_AOI.bounds_lonlat)
    misses = stac.cache_misses()
    with pytest.raises(DataError, match="cannot reach"):
        cat2.search("es", bbox_lonlat=S2_AOI.bounds_lonlat)
    assert stac.cache_misses() == misses  # the failure was remembered, not retried at once


def test_missing_assets_and_404_hrefs(site, tmp_path: Path):
    # WVP.tif is not among the local files: its href answers 404.
    catalog.add_stac_product(
        "stac-404", site["catalog"], collection="sentinel-2-l2a", bands=["red", "wvp"]
    )
    ic = wf.ImageCollection.from_id("stac-404").pick_bands("wvp")
    with pytest.raises(DataError, match=r"cogs/WVP\.tif.*404|404.*cogs/WVP\.tif"):
        ic.compute(S2_AOI)
    # An item lacking one band's asset: that band cannot be read, the others can.
    item = json.loads((site["root"] / "sentinel-2-l2a" / S2_ITEM / f"{S2_ITEM}.json").read_text())
    item["assets"] = {k: v for k, v in item["assets"].items() if k not in ("nir", "nir-jp2")}
    for asset in item["assets"].values():
        asset["href"] = urllib.parse.urljoin(
            f"{site['base']}/static/sentinel-2-l2a/{S2_ITEM}/", asset["href"]
        )
    (tmp_path / "item.json").write_text(json.dumps(item))
    full = site["root"] / "sentinel-2-l2a" / S2_ITEM / f"{S2_ITEM}.json"
    cat = Catalog(tmp_path / "cat.sqlite")
    stac.add_stac_product("s2", str(full), bands=["red", "nir"], catalog=cat)
    product = cat.product("s2")
    spec = cat.product_source("s2")[1]
    partial = stac.StacSource(
        product, SourceSpec.from_json({**spec, "url": str(tmp_path / "item.json")})
    )
    (rec,) = partial.search()
    assert set(rec.files) == {"red"}
    from tiles.data.reading import CatalogSource

    source = CatalogSource([rec], product, S2_AOI)
    assert source.read([0], ["red"]).count() > 1000
    with pytest.raises(NotFoundError, match="band 'nir' of product 's2' has no file"):
        source.read([0], ["nir"])
    with pytest.raises(ParameterError, match="no asset or eo:bands name 'nir'"):
        stac.add_stac_product("s2b", str(tmp_path / "item.json"), bands=["nir"], catalog=cat)


def test_redefinition_and_removal(site, tmp_path: Path):
    cat = Catalog(tmp_path / "cat.sqlite")
    first = stac.add_stac_product("s2", site["catalog"], bands=["red"], catalog=cat)
    assert stac.add_stac_product("s2", site["catalog"], bands=["red"], catalog=cat) == first
    with pytest.raises(ParameterError, match="already exists"):
        stac.add_stac_product("s2", f"{site['base']}/es", bands=["red"], catalog=cat)
    cat.remove_product("s2")
    assert cat.product_source("s2") is None
    with pytest.raises(NotFoundError):
        cat.product("s2")


# ------------------------------------------------------------------------ presets and CLI


def test_preset_expansion():
    assert stac.expand_preset("earth-search:sentinel-2-l2a") == {
        "url": "https://earth-search.aws.element84.com/v1",
        "collection": "sentinel-2-l2a",
        "signer": None,
    }
    pc = stac.expand_preset("planetary-computer:landsat-c2-l2")
    assert pc["url"] == "https://planetarycomputer.microsoft.com/api/stac/v1"
    assert pc["collection"] == "landsat-c2-l2" and pc["signer"] == "planetary-computer"
    for not_preset in ("sample:s2", "earth-search", "earth-search:", "earth-search:a:b"):
        assert stac.expand_preset(not_preset) is None
    with pytest.raises(ParameterError, match="unknown signer"):
        stac.register_preset("x", "http://127.0.0.1:1/", signer="nope")
    # Only Azure blob URLs are signed; nothing else is touched (no token is fetched).
    sign = SIGNERS["planetary-computer"]("sentinel-2-l2a", 1.0)
    assert sign("http://127.0.0.1:1/B04.tif") == "http://127.0.0.1:1/B04.tif"


def test_preset_ids_define_themselves(site, shared_data: Path):
    stac.register_preset("local-es", f"{site['base']}/es", description="test API")
    try:
        ic = wf.ImageCollection.from_id("local-es:sentinel-2-l2a", "2020-02-01", "2020-03-01")
        red = ic.pick_bands("red").compute(S2_AOI).ndarray[0, 0]
    finally:
        del stac.PRESETS["local-es"]
    assert_same_pixels(red, disk_band(shared_data / S2 / "B04.tif", S2_AOI) * 1e-4)
    product = catalog.product("local-es:sentinel-2-l2a")  # now stored in the catalog
    assert "red" in product.band_names and "nir" in product.band_names


def test_cli_add_stac_product(site, tmp_path: Path, capsys):
    path = str(tmp_path / "cli.sqlite")
    code = catalog_main(
        ["--catalog", path, "--json", "add-stac-product", "cli-s2", site["catalog"],
         "--collection", "sentinel-2-l2a", "--band", "red", "--band", "infrared=nir"]
    )  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["id"] == "cli-s2" and [b["name"] for b in out["bands"]] == ["red", "infrared"]
    assert catalog_main(["--catalog", path, "images", "cli-s2"]) == 0
    assert S2_ITEM in capsys.readouterr().out
    code = catalog_main(["--catalog", path, "add-stac-product", "bad", "http://127.0.0.1:1/"])
    assert code == 1 and "cannot reach" in capsys.readouterr().err
