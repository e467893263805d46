"""The destination board: the panel, its dialogs and the map layer."""
