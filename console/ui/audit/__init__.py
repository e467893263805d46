"""The audit dock: who did what, when, and what dispatch answered."""
