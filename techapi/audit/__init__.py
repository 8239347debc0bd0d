"""The append-only audit trail: who did what to which job, when (server and device time)."""
