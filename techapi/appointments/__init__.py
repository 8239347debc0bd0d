"""Appointment slots, adding and rescheduling an appointment: synchronous calls
to SP-API for a person who is waiting, with the job refreshed at once."""
