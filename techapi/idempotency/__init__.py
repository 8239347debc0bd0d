"""Idempotency-Key for the phone's POST/PUT/PATCH/DELETE (IETF httpapi draft)."""
