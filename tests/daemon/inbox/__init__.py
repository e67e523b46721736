"""Tests of the event inbox: batched apply and hostile events."""
