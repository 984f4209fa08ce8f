"""Tests of the gRPC endpoint, driven by the unmodified original client."""
