"""Channel adapters: translate platform payloads to IncomingMessage and replies to platform requests."""
