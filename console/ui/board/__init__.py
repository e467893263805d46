"""The team board: every team, its status and current call."""
