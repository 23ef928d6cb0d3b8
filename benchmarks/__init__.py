"""`make bench`: the benchmarks of the contract (`python -m benchmarks.run`).

Sections: shower simulation, forest training, forest prediction, the model
cards' accuracy against their references, the Celery precomputation through
the real broker against raw in-process prediction, and the quiz under 20
concurrent players on gunicorn + PostgreSQL. Results go to a table on stdout
and to `.bench/results.json`. Timings live here only, never in the tests.
"""
