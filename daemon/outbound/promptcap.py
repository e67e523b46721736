"""The per-client prompt cap: at most N prompts a client's day, across all commitments."""

from __future__ import annotations

from datetime import date

from daemon.store import keys
from daemon.store.pipelining import AutoPipeline

# The reservation lives on the client's own hash (erased with it), as the local day and the
# space-separated ids of the steps that took that day's places. A step already holding a
# place keeps it (a retried job is not capped by itself).
_RESERVE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local steps = ''
if redis.call('HGET', KEYS[1], 'cap_day') == ARGV[1] then
  steps = redis.call('HGET', KEYS[1], 'cap_steps') or ''
end
local count = 0
for step in string.gmatch(steps, '[^ ]+') do
  if step == ARGV[2] then return 1 end
  count = count + 1
end
if count >= tonumber(ARGV[3]) then return 0 end
if steps ~= '' then steps = steps .. ' ' end
redis.call('HSET', KEYS[1], 'cap_day', ARGV[1], 'cap_steps', steps .. ARGV[2])
return 1
"""


class PromptCap:
    """Reserves one of a client's prompt places for the day, atomically (a Lua script)."""

    def __init__(self, commands: AutoPipeline) -> None:
        self._commands = commands

    async def reserve(self, client_id: str, local_day: date, step_id: str, cap: int) -> bool:
        """True if this step may prompt the client today (it keeps its place if it had one)."""
        args: list[str | int] = [local_day.isoformat(), step_id, cap]
        return bool(await self._commands.eval(_RESERVE, [keys.client(client_id)], args))
