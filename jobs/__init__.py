"""coachd's domain: what happens to a commitment, with no Redis, SMTP or clock of its own."""
