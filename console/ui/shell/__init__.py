"""The window around the panels: menus, banners, docks, the composition of a console and its
process entry point."""
