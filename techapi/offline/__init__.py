"""Actions the phone recorded offline, replayed in a batch."""
