"""What every panel shares: the context, the picture source, the pacer, background tasks, the
command gateway, the theme and the link and change watchers."""
