"""The bundled dispatch simulator: a real STA-024/EIDO notifier over a simulated (or CSV-replayed)
shift, and the thread runner that serves it inside another program.

Qt-free. Imports console.domain, console.wire and console.store (the ground truth has the shape
of ``state --json``); never console.sync, the console's side of the link.
"""
