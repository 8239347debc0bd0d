"""The read side: screens and reports that read across domains (the job list and
detail, metrics, `techapi status`), built on plain queries into read models."""
