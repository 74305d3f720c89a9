"""The Socket.IO hub's parts: configuration, auth, validation, rate limits, terminal commands, events."""
