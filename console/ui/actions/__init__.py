"""The supervisor's actions: one dialog per command, and the menu actions that open them."""
