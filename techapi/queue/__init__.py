"""The durable task queue in the database (transactional outbox): task kinds,
enqueueing in the caller's transaction, leases, and the one retry policy."""
