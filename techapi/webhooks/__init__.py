"""Callbacks from the third-party field app (Standard Webhooks)."""
