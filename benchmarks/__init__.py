"""The benchmarks of every layer, each against a baseline measured in the same run.

``responder-console bench`` runs them (:func:`benchmarks.suite.run_benchmarks`); they ship with
the program so an installed copy can measure itself.
"""
