"""coachd's tests, mirroring the packages they test."""
