"""Drive the unmodified descarteslabs 1.12.1 client against a tiles server (Python 3.9).

Run with the interpreter of a virtual environment holding ``descarteslabs==1.12.1``.
Reads a JSON job from argv[1] and prints one JSON line of results:

- builds an NDVI image with ``wf.Image.from_id`` and a ``wf.widgets.slider`` threshold,
  shows it with ``visualize`` on the headless ``wf.map``, and records the layer's tile
  URL template for each requested slider value;
- looks the XYZ up again (``XYZ.get``, ``XYZ.list``), streams the tile logs of a
  layer whose tiles fail, tries to publish a file path, and deletes what it made.

Connection: ``"insecure": true`` installs a plain-text ``wf.Client`` (the public API for
local servers); otherwise the client's own settings apply, i.e. the
``DESCARTESLABS_WORKFLOWS_*`` environment variables, ``GRPC_CA_BUNDLE`` and
``DESCARTESLABS_TOKEN`` set by the caller.

With ``"create_only": true`` it only tries to show the NDVI layer and prints either
``{"created": <xyz id>, "url": ...}`` or ``{"error": {"type": ..., "message": ...}}``.
"""

import json
import sys
import threading


def main():
    job = json.loads(sys.argv[1])
    import descarteslabs.workflows as wf

    if job.get("insecure"):
        client = wf.Client(job["host"], job["port"], use_insecure_channel=True)
        wf.Client.set_default_client(client)
    out = {}

    img = wf.Image.from_id(job["image_id"])
    nir, red = img.unpack_bands("nir red")
    ndvi = (nir - red) / (nir + red)
    thresh = wf.widgets.slider("thresh", 0.0, 1.0, step=0.05, default=job["values"][0])
    masked = ndvi.mask(ndvi < thresh)

    if job.get("create_only"):
        try:
            layer = masked.visualize(
                "NDVI", scales=job["scales"], colormap=job["colormap"], map=wf.map
            )
        except Exception as exc:  # the client turns gRPC statuses into its own exceptions
            _emit({"error": {"type": type(exc).__name__, "message": str(exc)}})
            return
        _emit({"created": layer.xyz_obj.id, "url": layer.url})
        return

    layer = masked.visualize("NDVI", scales=job["scales"], colormap=job["colormap"], map=wf.map)
    out["session_id"] = layer.session_id
    out["xyz_id"] = layer.xyz_obj.id
    out["graft"] = layer.xyz_obj._message.serialized_graft
    out["parameter_names"] = [p.name for p in layer.xyz_obj._message.parameters]
    urls = []
    for value in job["values"]:
        # What moving the slider does: the widget's value flows to the layer's URL.
        thresh.widget.value = value
        urls.append(layer.url)
    out["urls"] = urls
    out["on_map"] = layer in wf.map.layers

    again = wf.XYZ.get(layer.xyz_obj.id)
    out["get"] = {
        "name": again.name,
        "channel": again.channel,
        "type": str(again.type),
        "object_type": type(again.object).__name__,
        "params": [p._name for p in again.params],
        "url_template": again._message.url_template,
    }
    out["listed"] = [x.id for x in wf.XYZ.list(public=False)]

    # A layer whose tiles fail: its errors come back through GetXYZSessionLogs.
    broken = wf.Image.from_id(job["missing_id"]).pick_bands("red")
    broken_xyz = wf.XYZ(broken, name="broken", public=False)
    out["broken_url"] = broken_xyz.url(session_id="logsession", scales=[[0, 1]])
    listener = broken_xyz.log_listener()
    received = []
    got = threading.Event()

    def on_record(msg):
        received.append({"level": msg.record.level, "message": msg.record.message})
        got.set()

    listener.add_callback(on_record)
    listener.listen("logsession", level=None)
    _emit({"ready_for_logs": out["broken_url"]})
    sys.stdin.readline()  # the caller fetched a failing tile
    got.wait(job.get("log_wait_seconds", 60))
    listener.stop(timeout=5)
    out["logs"] = received

    try:
        wf.Image.from_id(job["path_id"]).visualize("path", map=wf.map)
        out["path_error"] = None
    except Exception as exc:  # the client turns gRPC statuses into its own exceptions
        out["path_error"] = {"type": type(exc).__name__, "message": str(exc)}

    wf.XYZ.delete_id(broken_xyz.id)
    try:
        wf.XYZ.get(broken_xyz.id)
        out["deleted"] = False
    except Exception as exc:
        out["deleted"] = type(exc).__name__
    _emit({"result": out})


def _emit(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
