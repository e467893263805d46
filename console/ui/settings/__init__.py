"""The settings dialog: thresholds, theme and map options, written to the configuration file."""
