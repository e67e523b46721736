"""Tests of the Redis store, its helpers, privacy, migration and the embedded server."""
