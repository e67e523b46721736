"""Tests of coach-file loading, checking and reloading."""
