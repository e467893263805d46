"""The "needs outcome" list: closed calls still waiting for the program's outcome."""
