"""Background work: scheduled job sync (and, later, the closure queue)."""
