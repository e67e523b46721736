"""`python -m bench.chaos`: coachd under kills, Redis restarts and SMTP faults; a verdict.

    python -m bench.chaos [--commitments 300] [--workers 2] [--minutes 2] [--seed S]
                          [--fault-rate 0.15] [--redis-restarts 4] [--drain-seconds 180]
                          [--workdir DIR] [--json]

Loopback only: its own redis-server (AOF, as coachd's embedded one), a faulty SMTP sink in its
own process (bench.chaos.sink), N `coachd run` workers. For `--minutes` it creates overdue
commitments in waves (each one prompt, due at once), SIGKILLs a worker every 3-7 s (every
other kill while the sink holds one of its transactions open, before or after the final dot)
and restarts it, and restarts Redis (alternately SIGKILL and SIGTERM). Then the faults stop,
everything drains, the workers get SIGTERM, and bench.chaos.check judges the sink's record
against the send ledger. Exit 1 on a lost or doubled step, a duplicate Message-ID, a ledger
entry left in flight, or a worker not exiting 0. Logs, the AOF and `timeline.jsonl` (every
kill, restart and wave, timestamped) stay in the work directory.
"""
