"""SP-API Services v1: client, LWA, rate limiting and the sandbox simulator."""
