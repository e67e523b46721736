"""Per-client daily caps: at most N prompts, and N answers (confirmations, "what would
help?"), a client's day, across all commitments."""

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
if redis.call('HGET', KEYS[1], ARGV[4]) == ARGV[1] then
  steps = redis.call('HGET', KEYS[1], ARGV[5]) or ''
end
local count = 0
for step in string.gmatch(steps, '[^ ]+') do
  if step == ARGV[2] then return 1 end
  count = count + 1
end
if count >= tonumber(ARGV[3]) then return 0 end
if steps ~= '' then steps = steps .. ' ' end
redis.call('HSET', KEYS[1], ARGV[4], ARGV[1], ARGV[5], steps .. ARGV[2])
return 1
"""


# Which client-hash fields hold each cap's day and the steps that took its places.
PROMPT_FIELDS = ("cap_day", "cap_steps")
ANSWER_FIELDS = ("ans_day", "ans_steps")
ANSWERS_PER_DAY = 3


class PromptCap:
    """Reserves one of a client's prompt places for the day, atomically (a Lua script)."""

    def __init__(self, commands: AutoPipeline) -> None:
        self._commands = commands

    async def reserve(self, client_id: str, local_day: date, step_id: str, cap: int) -> bool:
        """True if this step may prompt the client today (it keeps its place if it had one)."""
        return await self._reserve(client_id, local_day, step_id, cap, PROMPT_FIELDS)

    async def reserve_answer(self, client_id: str, local_day: date, step_id: str) -> bool:
        """True if this answer (a confirmation, a "what would help?") may go out today: an
        autoresponder that answers every email must not start a loop."""
        return await self._reserve(client_id, local_day, step_id, ANSWERS_PER_DAY, ANSWER_FIELDS)

    async def _reserve(
        self, client_id: str, day: date, step_id: str, cap: int, fields: tuple[str, str]
    ) -> bool:
        args: list[str | int] = [day.isoformat(), step_id, cap, *fields]
        return bool(await self._commands.eval(_RESERVE, [keys.client(client_id)], args))
