"""The follow-ups after calls: the queue (due and overdue first) and its actions."""
