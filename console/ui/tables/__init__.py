"""The shared table panel: a filter box over a sortable Qt item model, ticked in steps."""
