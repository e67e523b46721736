"""Events in: the inbox stream, applying its events in batches, dead letters for bad ones."""
