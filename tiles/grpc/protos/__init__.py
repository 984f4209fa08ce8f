"""Wire definitions of the original Workflows XYZAPI (``*.proto``) and their generated modules.

The ``.proto`` files are installed with the package, for generating clients in other
languages: ``importlib.resources.files("tiles.grpc.protos")`` is their folder.
"""
