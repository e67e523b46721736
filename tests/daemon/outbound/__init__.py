"""Tests of firing, sending, the ledger and crashes mid-send."""
