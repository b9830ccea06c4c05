"""gunicorn settings for Kuulo. gunicorn reads this file when started in the project root:

    .venv/bin/gunicorn 'app:create_app()'

Every value can be overridden on the command line (``-w``, ``--threads``, ``-b``) or with the
environment variables below.
"""
import multiprocessing
import os

bind = os.environ.get("KUULO_BIND", "0.0.0.0:8000")
# One process per core. Threads serve requests that wait on the database or on storage.
workers = int(os.environ.get("KUULO_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
# Few threads per process: measured with benchmarks/lending_bench.py, 16 threads per process served
# fewer requests than 4 — every database call releases the GIL and then queues to get it back.
# Keep KUULO_DATABASE_POOL_SIZE at least this large.
threads = int(os.environ.get("KUULO_THREADS", 4))
# Reader apps poll with keep-alive connections.
keepalive = 30
# Large track downloads are streamed; a slow client must not be killed mid-file.
timeout = 120
