"""A liveness websocket: proves the ASGI websocket path works end to end (uvicorn -> Channels)."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.parsers import loads_bounded


class PingConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            await super().receive(text_data, bytes_data, **kwargs)
        except (
            ValueError
        ):  # malformed (orjson) or too deeply nested (JsonTooDeep): or too deeply nested: answered, not a crash
            await self.send_json({"type": "error", "code": "bad_frame"})

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        return loads_bounded(text_data)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"type": "pong", "echo": content.get("echo") if isinstance(content, dict) else None})
