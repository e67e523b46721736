"""Tests of reading raw inbound mail, over a corpus and hostile inputs."""
