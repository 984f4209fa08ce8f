"""Tests of the compute layer: evaluation, output formats, jobs, workflows and the remote client."""
