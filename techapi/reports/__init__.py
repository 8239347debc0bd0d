"""Reports for supervisors, computed on request from techapi's own records (jobs,
recorded times, cancellations, the audit trail, reservations): never a second copy."""
