"""Wire definitions of the original Workflows XYZAPI (``*.proto``) and their generated modules."""
