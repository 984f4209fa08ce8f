"""The unmodified descarteslabs 1.12.1 client against ``python -m tiles serve --grpc-port``.

The original client runs in a Python 3.9 virtual environment built once from
``original_client/requirements-py39.txt`` and cached under
``~/.cache/tiles-test/py39-descarteslabs-<hash>`` (``$TILES_TEST_CACHE`` moves it).
It publishes an NDVI layer with a slider through real gRPC on 127.0.0.1, and the PNGs
behind the URLs it builds must equal those of this project's own client for the same
graph and slider values. Bad grafts sent with this project's stubs must get
INVALID_ARGUMENT while the server keeps serving. Only a missing Python 3.9 skips.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import mercantile
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import tiles as wf
from tests.support import catalog_beside_sample, exclusive_lock, free_port
from tiles.grpc.auth import make_token
from tiles.grpc.protos import types_pb2, typespec_pb2, widgets_pb2, xyz_pb2, xyz_pb2_grpc
from tiles.server import register_layer

HERE = Path(__file__).resolve().parent / "original_client"
REQUIREMENTS = HERE / "requirements-py39.txt"
IMAGE = "sample:s2:20230714_z13"
#: A zoom-12 tile half inside the image's footprint: data, masked pixels and no-data.
TILE = mercantile.tile(-105.78, 35.70, 12)
VALUES = [0.3, 0.6]
SCALES = [[-1, 1]]
COLORMAP = "viridis"
SECRET = "test-secret-7f3a"
#: Upper bound for one run of the 3.9 client script (imports take a few seconds).
SCRIPT_TIMEOUT = 300


# -- the Python 3.9 environment ------------------------------------------------------------


def _python39() -> str | None:
    candidates = [os.environ.get("TILES_TEST_PYTHON39"), shutil.which("python3.9")]
    for root in (os.environ.get("PYENV_ROOT"), str(Path.home() / ".pyenv"), "/root/.pyenv"):
        if root:
            candidates += sorted(glob.glob(f"{root}/versions/3.9*/bin/python3.9"), reverse=True)
    for candidate in candidates:
        if not candidate:
            continue
        try:
            out = subprocess.run(
                [candidate, "-c", "import sys, venv; print(sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode == 0 and out.stdout.strip() == "(3, 9)":
            return candidate
    return None


def _cache_root() -> Path:
    env = os.environ.get("TILES_TEST_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tiles-test"


@pytest.fixture(scope="session")
def py39_env() -> Path:
    """The cached 3.9 virtual environment with the original client; built on first use."""
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter found (set TILES_TEST_PYTHON39 to one)")
    key = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    root = _cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"py39-descarteslabs-{key}"
    ready = target / ".complete"
    # Parallel test workers build the environment once, one at a time.
    with exclusive_lock(root / f"py39-descarteslabs-{key}.lock"):
        if not ready.exists():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run([python, "-m", "venv", str(target)], check=True)
            pip = [str(target / "bin" / "python"), "-m", "pip"]
            subprocess.run(
                [
                    *pip,
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                    str(REQUIREMENTS),
                ],
                check=True,
                timeout=1800,
            )
            ready.write_text(key)
    return target


def _client_env(**extra: str) -> dict[str, str]:
    """Environment for the 3.9 client: nothing of this venv, no proxies, no real credentials."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DESCARTESLABS_", "GRPC_"))
        and k.lower() not in ("http_proxy", "https_proxy", "grpc_proxy", "all_proxy")
        and k not in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["DESCARTESLABS_ENV"] = "gcp-production"
    env["PYTHONWARNINGS"] = "ignore"
    env.update(extra)
    return env


def _run_client(py39_env: Path, job: dict, env: dict[str, str], broken_tile: bool = False) -> dict:
    """Run visualize_ndvi.py; when asked, fetch the failing tile it announces first."""
    proc = subprocess.Popen(
        [str(py39_env / "bin" / "python"), str(HERE / "visualize_ndvi.py"), json.dumps(job)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        if broken_tile:
            line = proc.stdout.readline()
            if not line:
                _, err = proc.communicate(timeout=SCRIPT_TIMEOUT)
                pytest.fail(f"client script failed before its log step:\n{err[-4000:]}")
            url = json.loads(line)["ready_for_logs"]
            status, _ = _get(url.format(z=TILE.z, x=TILE.x, y=TILE.y))
            assert status == 404, "a tile of a missing image must fail"
        out, err = proc.communicate("\n", timeout=SCRIPT_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"client script failed:\n{err[-4000:]}"
    return json.loads(out.strip().splitlines()[-1])


# -- the server ------------------------------------------------------------------------------


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Served:
    """A ``python -m tiles serve --grpc-port`` subprocess."""

    def __init__(self, http_port: int, grpc_port: int, proc: subprocess.Popen, log: Path):
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.proc = proc
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


@contextlib.contextmanager
def _serve(tmp: Path, sample_folder: Path, *extra: str) -> Iterator[Served]:
    http_port, grpc_port = free_port(), free_port()
    env = dict(os.environ)
    env["TILES_CATALOG"] = str(catalog_beside_sample(tmp, sample_folder))
    env["TILES_SERVER_DB"] = str(tmp / "layers.sqlite")
    log = tmp / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tiles", "serve", "--port", str(http_port)]
            + ["--grpc-port", str(grpc_port), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    served = Served(http_port, grpc_port, proc, log)
    try:
        for _ in range(600):  # bounded wait for both listeners
            if proc.poll() is not None:
                pytest.fail(f"server exited early:\n{log.read_text()[-4000:]}")
            try:
                with socket.create_connection(("127.0.0.1", grpc_port), timeout=1):
                    pass
                if _get(served.base_url + "/health")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail(f"server did not start:\n{log.read_text()[-4000:]}")
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sample_folder: Path) -> Iterator[Served]:
    """A plain-text loopback server without a token (the local notebook setup)."""
    with _serve(tmp_path_factory.mktemp("plain"), sample_folder) as served:
        yield served


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory, sample_folder: Path
) -> Iterator[tuple[Served, Path]]:
    """A TLS server with a token and a self-signed certificate for localhost."""
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed to make the test certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    with _serve(
        tmp, sample_folder, "--token", SECRET, "--grpc-cert", str(cert), "--grpc-key", str(key)
    ) as served:
        yield served, cert


@pytest.fixture(scope="module")
def stub(server: Served) -> Iterator[xyz_pb2_grpc.XYZAPIStub]:
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        yield xyz_pb2_grpc.XYZAPIStub(channel)


# -- this project's own client ---------------------------------------------------------------


def own_tiles(base_url: str) -> list[bytes]:
    """The PNGs this project's client gets for the NDVI graph at each slider value."""
    img = wf.Image.from_id(IMAGE)
    nir, red = img.unpack_bands("nir red")
    ndvi = (nir - red) / (nir + red)
    thresh = wf.parameter("thresh", wf.Float)
    layer = register_layer(
        ndvi.mask(ndvi < thresh), name="NDVI", scales=SCALES, colormap=COLORMAP, server=base_url
    )
    pngs = []
    for value in VALUES:
        status, body = _get(layer.url(session_id="own", thresh=value).format(**_tile_args()))
        assert status == 200, body[:300]
        pngs.append(body)
    return pngs


def _tile_args() -> dict[str, int]:
    return {"z": TILE.z, "x": TILE.x, "y": TILE.y}


def _job(**extra: object) -> dict:
    return {
        "image_id": IMAGE,
        "values": VALUES,
        "scales": SCALES,
        "colormap": COLORMAP,
        "missing_id": "sample:s2:no_such_image",
        "path_id": "/etc/passwd",
        **extra,
    }


# -- tests -----------------------------------------------------------------------------------


def test_wire_definitions_match_the_original(py39_env: Path) -> None:
    sys.path.insert(0, str(HERE))
    try:
        from describe_wire import describe
    finally:
        sys.path.remove(str(HERE))
    out = subprocess.run(
        [str(py39_env / "bin" / "python"), str(HERE / "describe_wire.py"), "original"],
        capture_output=True,
        text=True,
        env=_client_env(),
        timeout=SCRIPT_TIMEOUT,
        check=True,
    )
    original = json.loads(out.stdout)
    ours = json.loads(json.dumps(describe("tiles")))
    assert set(original["methods"]) == {
        "CreateXYZ",
        "GetXYZ",
        "ListXYZ",
        "DeleteXYZ",
        "GetXYZSessionLogs",
    }
    assert ours == original


def test_original_client_slider_tiles_equal_own_client(py39_env: Path, server: Served) -> None:
    job = _job(insecure=True, host="127.0.0.1", port=server.grpc_port, log_wait_seconds=120)
    result = _run_client(py39_env, job, _client_env(), broken_tile=True)["result"]

    # CreateXYZ answered with a template on this server's HTTP tile endpoint.
    template_prefix = server.base_url + "/layers/"
    assert result["on_map"] is True
    assert result["parameter_names"] == ["thresh"]
    assert result["get"]["url_template"].startswith(template_prefix)
    assert result["get"]["url_template"].endswith("/{z}/{x}/{y}.png")
    assert result["get"]["name"] == "NDVI"
    assert result["get"]["channel"] == "v0-19"
    assert result["get"]["params"] == ["thresh"]
    assert result["get"]["object_type"] == "Function[{'thresh': Float}, Image]"
    assert result["xyz_id"] in result["listed"]
    urls = result["urls"]
    assert [u.split("thresh=")[1] for u in urls] == ["0.3", "0.6"]

    theirs = []
    for url in urls:
        assert url.startswith(result["get"]["url_template"] + "?session_id=")
        status, body = _get(url.format(**_tile_args()))
        assert status == 200, body[:300]
        assert body.startswith(b"\x89PNG")
        theirs.append(body)
    assert theirs[0] != theirs[1], "the slider value must change the tile"
    assert theirs == own_tiles(server.base_url)

    # Tile errors of the failing layer came back through GetXYZSessionLogs.
    assert any(
        r["level"] == 3 and "sample:s2:no_such_image" in r["message"] for r in result["logs"]
    ), result["logs"]
    # A file path instead of a catalog id was refused by CreateXYZ.
    assert result["path_error"]["type"] == "InvalidArgument"
    assert "file path" in result["path_error"]["message"]
    # DeleteXYZ removed the XYZ: GetXYZ then says NOT_FOUND.
    assert result["deleted"] == "NotFound"


def test_unmodified_client_over_tls_with_environment_variables(
    py39_env: Path, tls_server: tuple[Served, Path]
) -> None:
    served, cert = tls_server
    settings = {
        "DESCARTESLABS_WORKFLOWS_HOST": "localhost",
        "DESCARTESLABS_WORKFLOWS_PORT": str(served.grpc_port),
        "DESCARTESLABS_WORKFLOWS_HOST_HTTP": f"localhost:{served.http_port}",
        "GRPC_CA_BUNDLE": str(cert),
    }
    job = _job(create_only=True)

    signed = make_token(SECRET, subject="analyst", days=1)
    answer = _run_client(py39_env, job, _client_env(DESCARTESLABS_TOKEN=signed, **settings))
    assert "created" in answer, answer
    status, body = _get(answer["url"].format(**_tile_args()))
    assert status == 200 and body.startswith(b"\x89PNG")

    # The unsigned kind of token the client accepts is refused by a server with a key.
    unsigned = _unsigned_jwt({"sub": "mallory", "exp": int(time.time()) + 3600})
    answer = _run_client(py39_env, job, _client_env(DESCARTESLABS_TOKEN=unsigned, **settings))
    assert answer["error"]["type"] == "Unauthenticated", answer
    assert "signed" in answer["error"]["message"]


def _unsigned_jwt(payload: dict) -> str:
    import base64

    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(payload)}.x"


def _slider_parameter(name: str = "thresh") -> widgets_pb2.Parameter:
    return widgets_pb2.Parameter(
        name=name,
        typespec=typespec_pb2.Typespec(type="Float"),
        float_slider=widgets_pb2.FloatSlider(default=0.5, min=0, max=1, step=0.1),
    )


def _request(graft: object, **fields: object) -> xyz_pb2.CreateXYZRequest:
    text = graft if isinstance(graft, str) else json.dumps(graft)
    fields.setdefault("typespec", typespec_pb2.Typespec(type="Image"))
    fields.setdefault("name", "bad")
    return xyz_pb2.CreateXYZRequest(
        serialized_graft=text, channel="v0-19", client_version="1.12.1", **fields
    )


def _load(image_id: str) -> dict:
    """The graft of ``wf.Image.from_id(image_id).pick_bands("red")``."""
    return {
        "0": image_id,
        "1": ["wf.Image.load", "0"],
        "2": "red",
        "3": ["wf.pick_bands", "1", "2"],
        "returns": "3",
    }


BAD_GRAFTS = {
    "not json": ("{'returns': ", "not valid JSON"),
    "not a graft": (["wf.Image.load", "x"], "'returns'"),
    "returns nothing": ({"returns": 3}, "'returns' must be a key"),
    "bad expression": ({"0": {"a": 1}, "returns": "0"}, "nested graft"),
    "non-key argument": ({"0": ["wf.Image.load", 5], "returns": "0"}, "must be keys"),
    "unknown builtin": (
        {"0": "a", "1": ["wf.os.system", "0"], "returns": "1"},
        "unknown builtin 'wf.os.system'",
    ),
    "unknown name": ({"0": ["wf.Image.load", "nowhere"], "returns": "0"}, "unknown name"),
    "absolute path": (_load("/etc/passwd"), "file path"),
    "relative path": (_load("../data/scene.tif"), "file path"),
    "file url": (_load("file:///data/scene.tif"), "file path"),
    "http url": (
        {
            "0": "https://example.com/a.tif",
            "1": ["wf.ImageCollection.from_id", "0"],
            "returns": "1",
        },
        "file path",
    ),
    "home path": (_load("~/scene.tif"), "file path"),
    "self reference": ({"a": ["wf.neg", "a"], "returns": "a"}, "depends on itself"),
    "cycle": ({"a": ["wf.neg", "b"], "b": ["wf.neg", "a"], "returns": "a"}, "depends on itself"),
    "too deep": ('{"returns": "a", "a": [' + "[" * 200 + "1" + "]" * 200 + "]}", "deep"),
    "too deep to read": ('{"returns": "a", "a": ' + "[" * 3000 + "1" + "]" * 3000 + "}", "depth"),
    "argument count": ({"0": IMAGE, "1": ["wf.Image.load"], "returns": "1"}, "wf.Image.load"),
    "keyword name": (
        {"0": IMAGE, "1": ["wf.Image.load", "0", {"bogus": "0"}], "returns": "1"},
        "bogus",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAFTS))
def test_bad_grafts_are_invalid_argument(
    case: str, stub: xyz_pb2_grpc.XYZAPIStub, server: Served
) -> None:
    graft, message = BAD_GRAFTS[case]
    with pytest.raises(grpc.RpcError) as info:
        stub.CreateXYZ(_request(graft), timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in info.value.details()
    _assert_still_serving(stub, server)


def test_requests_that_cannot_be_layers_are_invalid_argument(
    stub: xyz_pb2_grpc.XYZAPIStub, server: Served
) -> None:
    number = typespec_pb2.Typespec(type="Int")
    function_graft = {**_load(IMAGE), "parameters": ["thresh"]}
    cases = [
        (_request({"0": 1, "returns": "0"}, typespec=number), "Image or ImageCollection"),
        (_request(_load(IMAGE), parameters=[_slider_parameter()]), "not a function"),
        (_request(function_graft, parameters=[_slider_parameter("other")]), "differ"),
        (_request(function_graft, parameters=[_slider_parameter("scales")]), "reserved"),
    ]
    for request, message in cases:
        with pytest.raises(grpc.RpcError) as info:
            stub.CreateXYZ(request, timeout=30)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert message in info.value.details()
    _assert_still_serving(stub, server)


def test_names_beyond_what_is_kept_are_resource_exhausted(
    stub: xyz_pb2_grpc.XYZAPIStub, server: Served
) -> None:
    for fields in ({"name": "n" * 300}, {"description": "d" * 70_000}):
        with pytest.raises(grpc.RpcError) as info:
            stub.CreateXYZ(_request(_load(IMAGE), **fields), timeout=30)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "characters" in info.value.details()
    _assert_still_serving(stub, server)


def _assert_still_serving(stub: xyz_pb2_grpc.XYZAPIStub, server: Served) -> None:
    """A good request still works, the health service says SERVING, tiles still render."""
    xyz = stub.CreateXYZ(_request(_load(IMAGE), name="good"), timeout=30)
    assert xyz.url_template.startswith(server.base_url + "/layers/")
    assert stub.GetXYZ(xyz_pb2.GetXYZRequest(xyz_id=xyz.id), timeout=30).id == xyz.id
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "descarteslabs.workflows.XYZAPI"):
            reply = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    query = "?scales=%5B%5B0%2C1%5D%5D&colormap=&session_id=s"
    status, body = _get(xyz.url_template.format(**_tile_args()) + query)
    assert status == 200 and body.startswith(b"\x89PNG")
    assert server.proc.poll() is None


def test_get_list_delete_and_unknown_ids(stub: xyz_pb2_grpc.XYZAPIStub, server: Served) -> None:
    request = _request(
        {**_load(IMAGE), "parameters": ["thresh"]},
        name="with parameter",
        parameters=[_slider_parameter()],
        typespec=typespec_pb2.Typespec(
            composite=typespec_pb2.CompositeType(
                type="Function",
                params=[
                    typespec_pb2.Typespec(
                        map=typespec_pb2.Map(
                            items=[
                                typespec_pb2.MapFieldEntry(
                                    key=typespec_pb2.Typespec(
                                        primitive=typespec_pb2.Primitive(string_="thresh")
                                    ),
                                    val=typespec_pb2.Typespec(type="Float"),
                                )
                            ]
                        )
                    ),
                    typespec_pb2.Typespec(type="Image"),
                ],
            )
        ),
        days_to_expiration=2,
    )
    first = stub.CreateXYZ(request, timeout=30)
    again = stub.CreateXYZ(request, timeout=30)
    assert again.id == first.id and again.url_template == first.url_template
    assert first.type == types_pb2.ResultType.Value("Image")
    assert first.parameters[0].float_slider.max == 1
    assert first.typespec == request.typespec
    assert first.expires_timestamp.ToMilliseconds() - first.created_timestamp == 2 * 86_400_000

    listed = [x.id for x in stub.ListXYZ(xyz_pb2.ListXYZRequest(public=False), timeout=30)]
    assert first.id in listed
    assert first.id not in [x.id for x in stub.ListXYZ(xyz_pb2.ListXYZRequest(public=True))]

    # The slider default applies when a tile URL gives no value.
    status, body = _get(first.url_template.format(**_tile_args()))
    assert status == 200 and body.startswith(b"\x89PNG")

    stub.DeleteXYZ(xyz_pb2.DeleteXYZRequest(xyz_id=first.id), timeout=30)
    for call, message in (
        (stub.GetXYZ, xyz_pb2.GetXYZRequest(xyz_id=first.id)),
        (stub.DeleteXYZ, xyz_pb2.DeleteXYZRequest(xyz_id=first.id)),
    ):
        with pytest.raises(grpc.RpcError) as info:
            call(message, timeout=30)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert _get(first.url_template.format(**_tile_args()))[0] == 404
    with pytest.raises(grpc.RpcError) as info:
        next(iter(stub.GetXYZSessionLogs(xyz_pb2.GetXYZSessionLogsRequest(xyz_id="nope"))))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_tokens_on_a_server_with_a_key(tls_server: tuple[Served, Path]) -> None:
    served, cert = tls_server
    credentials = grpc.ssl_channel_credentials(cert.read_bytes())
    request = _request(_load(IMAGE), name="tls")
    with grpc.secure_channel(f"localhost:{served.grpc_port}", credentials) as channel:
        stub = xyz_pb2_grpc.XYZAPIStub(channel)
        refused = {
            "no token": None,
            "unsigned": _unsigned_jwt({"sub": "x", "exp": int(time.time()) + 60}),
            "wrong key": make_token("another-secret", "x"),
            "expired": make_token(SECRET, "x", days=-1),
        }
        for case, token in refused.items():
            metadata = [("authorization", f"Bearer {token}")] if token else []
            with pytest.raises(grpc.RpcError) as info:
                stub.CreateXYZ(request, metadata=metadata, timeout=30)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, case
        for token in (SECRET, make_token(SECRET, "analyst")):
            xyz = stub.CreateXYZ(
                request, metadata=[("authorization", f"Bearer {token}")], timeout=30
            )
            assert xyz.url_template.startswith(f"http://127.0.0.1:{served.http_port}/layers/")
    # Health answers without credentials, for load balancers and probes.
    with grpc.secure_channel(f"localhost:{served.grpc_port}", credentials) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_network_addresses_need_a_token_and_tls() -> None:
    from tiles.grpc.server import GrpcServer
    from tiles.server.layers import LayerStore
    from tiles.server.service import TileService

    service = TileService(LayerStore(":memory:"))
    try:
        with pytest.raises(ValueError, match="token"):
            GrpcServer(service, "http://example.org", host="0.0.0.0", token=None)
        with pytest.raises(ValueError, match="TLS"):
            GrpcServer(service, "http://example.org", host="0.0.0.0", token=SECRET)
    finally:
        service.close()


def test_published_layers_survive_a_restart_and_compose(
    tmp_path: Path, sample_folder: Path
) -> None:
    with _serve(tmp_path, sample_folder) as first:
        with grpc.insecure_channel(f"127.0.0.1:{first.grpc_port}") as channel:
            stub = xyz_pb2_grpc.XYZAPIStub(channel)
            base = stub.CreateXYZ(_request(_load(IMAGE), name="red"), timeout=30)
            # A stored graft may use another published object by id, like the client's layers.
            doubled_graft = {"0": base.id, "1": ["XYZ.use", "0"], "2": 2, "3": ["wf.mul", "1", "2"]}
            doubled = stub.CreateXYZ(
                _request({**doubled_graft, "returns": "3"}, name="doubled"), timeout=30
            )
        query = "?scales=%5B%5B0%2C1%5D%5D&colormap=&session_id=s"
        before = {
            x.id: _get(x.url_template.format(**_tile_args()) + query) for x in (base, doubled)
        }
    assert all(status == 200 for status, _ in before.values())
    assert before[base.id][1] != before[doubled.id][1]

    with _serve(tmp_path, sample_folder) as second:
        with grpc.insecure_channel(f"127.0.0.1:{second.grpc_port}") as channel:
            stub = xyz_pb2_grpc.XYZAPIStub(channel)
            for old in (base, doubled):
                again = stub.GetXYZ(xyz_pb2.GetXYZRequest(xyz_id=old.id), timeout=30)
                assert again.url_template.startswith(second.base_url + "/layers/")
                assert (
                    again.url_template.split("/layers/")[1] == old.url_template.split("/layers/")[1]
                )
                status, body = _get(again.url_template.format(**_tile_args()) + query)
                assert status == 200
                assert body == before[old.id][1]
