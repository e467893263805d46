"""Qt user interface of the console: widgets, item models, the map, plots and dialogs."""
