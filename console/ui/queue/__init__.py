"""The call queue: open calls, most urgent first."""
