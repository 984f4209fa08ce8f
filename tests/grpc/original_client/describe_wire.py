"""Print the wire shape of the XYZAPI messages and service as JSON.

Runs under any Python with protobuf. ``describe_wire.py original`` describes the
descarteslabs client's compiled descriptors; ``describe_wire.py tiles`` this project's.
Only what reaches the wire is printed: full names, field numbers, types, labels,
oneof membership, enum numbers and method signatures (file names are left out).
"""

import importlib
import json
import sys

SERVICE = "descarteslabs.workflows.XYZAPI"


def _modules(which):
    if which == "original":
        base = "descarteslabs._dl_modules.common.proto.{0}.{0}_pb2"
        return [importlib.import_module(base.format(n)) for n in ("xyz",)]
    return [importlib.import_module("tiles.grpc.protos.xyz_pb2")]


def _repeated(f):
    # Newer protobuf releases dropped FieldDescriptor.label in favour of is_repeated.
    if hasattr(f, "is_repeated"):
        return bool(f.is_repeated)
    return f.label == f.LABEL_REPEATED


def _enum(e):
    return {v.name: v.number for v in e.values}


def _message(m, out):
    if m.full_name in out["messages"]:
        return  # already described (Typespec refers to itself)
    fields = {}
    out["messages"][m.full_name] = fields
    for f in m.fields:
        if f.message_type is not None:
            type_name = f.message_type.full_name
            _message(f.message_type, out)
        elif f.enum_type is not None:
            type_name = f.enum_type.full_name
            out["enums"][f.enum_type.full_name] = _enum(f.enum_type)
        else:
            type_name = f.type
        fields[str(f.number)] = {
            "name": f.name,
            "type": type_name,
            "repeated": _repeated(f),
            "oneof": f.containing_oneof.name if f.containing_oneof else None,
        }


def describe(which):
    """The wire description of XYZAPI as a JSON-compatible dict."""
    out = {"messages": {}, "enums": {}, "methods": {}}
    for module in _modules(which):
        service = module.DESCRIPTOR.services_by_name["XYZAPI"]
        assert service.full_name == SERVICE, service.full_name
        for method in service.methods:
            out["methods"][method.name] = [
                method.input_type.full_name,
                method.output_type.full_name,
                method.client_streaming,
                method.server_streaming,
            ]
            _message(method.input_type, out)
            _message(method.output_type, out)
    return out


if __name__ == "__main__":
    print(json.dumps(describe(sys.argv[1]), sort_keys=True, indent=1))
