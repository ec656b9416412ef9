"""A scripted chat model for agent tests: returns the given AIMessages in order and supports bind_tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field


class ScriptedChatModel(GenericFakeChatModel):
    """Each ``invoke`` returns the next scripted message; what the model was shown is recorded."""

    bound_tools: list[str] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        self.bound_tools = [getattr(t, "name", str(t)) for t in tools]
        return self

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> AIMessage:  # type: ignore[override]
        self.seen.append(list(input))
        return super().invoke(input, config, **kwargs)


def tool_call(name: str, args: dict[str, Any], call_id: str = "call-1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id, "type": "tool_call"}])


def scripted(*messages: AIMessage | str) -> ScriptedChatModel:
    script = [m if isinstance(m, AIMessage) else AIMessage(content=m) for m in messages]
    return ScriptedChatModel(messages=iter(script), bound_tools=[], seen=[])
