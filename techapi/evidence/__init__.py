"""Evidence of the work: start/finish times and documents (photos, POA)."""
