"""The chat-server example's Python side: an asyncio chat server (rooms, clients) served by FastAPI."""
