"""Read models: reports, plot aggregates and JSON views computed from the stored picture.

They read through :meth:`console.store.Store.reading` (a connection for one consistent read)
and never write.
"""
