"""The Qt-free, database-free heart of the console: entities, lifecycles, events, the fold, rules.

Standard library only, so it runs headless (a sync service on a server) and in replay alike.
"""
