"""Tests of the reply routes, the intake and hostile inbound mail."""
