"""Qt user interface of the console, one package per panel or concern.

``core`` (context, picture source, pacer, tasks, gateway, theme, link and change watchers),
``tables`` (the table model and panel the queue and board share), ``queue``, ``board``,
``actions`` (one module per dialog, and the menu actions), ``alerts``, ``map``, ``audit``,
``plots``, ``settings``, ``replay`` and ``shell`` (window, help, composition, entry point).
"""
