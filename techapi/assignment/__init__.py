"""Assigning technicians to a job's active appointment through the durable queue
(assignAppointmentResources is 1 request/s): the request, its state and the task."""
