"""Closing jobs: technician's request, supervisor's decision, sending to SP-API; cancellation."""
