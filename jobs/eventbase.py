"""What every event has (version, id, time) and the id types events share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Ids travel in Redis keys, job ids and logs: keep them short and free of separators.
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class EventBase(BaseModel):
    """The fields every event carries; a subclass adds its `type` and its own fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = Field(description="Schema version of the event format.")
    event_id: Identifier = Field(description="Unique per event; a repeated id is ignored.")
    occurred_at: AwareDatetime = Field(description="When it happened at the producer.")
