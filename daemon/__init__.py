"""coachd's process: settings, config files, CLI, worker wiring and the I/O edges."""
