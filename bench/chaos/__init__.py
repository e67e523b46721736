"""`python -m bench.chaos`: coachd under kills, Redis restarts and SMTP faults; a verdict."""
