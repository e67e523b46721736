"""Tests of the benchmark's own tooling."""
