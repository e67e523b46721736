"""Tests of the process: CLI, settings, logs, and whole-process runs (crashes, outages)."""
