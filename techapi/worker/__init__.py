"""Background work: the task queue's runner and the scheduled job sync."""
