"""Redis: every key and script coachd keeps, the commitments, the due schedule and privacy."""
