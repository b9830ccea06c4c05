"""gunicorn settings for Kuulo. gunicorn reads this file when started in the project root:

    .venv/bin/gunicorn 'app:create_app()'

Every value can be overridden on the command line (``-w``, ``--threads``, ``-b``) or with the
environment variables below.
"""
import glob
import multiprocessing
import os
import shutil
import tempfile

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

# Logs (README "Logs"): one line per record; JSON in production, as the app's own (KUULO_LOG_FORMAT=json|text).
# The access log names the request id the app answered with, the method and the path — never the query
# string, the client's address, the referrer or the user agent.
_log_format = os.environ.get("KUULO_LOG_FORMAT") or (
    "json" if os.environ.get("KUULO_ENV_NAME", "").lower() == "production" else "text")
accesslog = "-"
if _log_format == "json":
    logger_class = "app.platform.logs.GunicornJsonLogger"
else:
    access_log_format = '%({x-request-id}o)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# Metrics (app/platform/metrics.py): every worker counts its requests in a file of its own under
# PROMETHEUS_MULTIPROC_DIR, and a scrape adds them up. Set it to keep the files elsewhere; it is emptied at start.
_metrics_dir_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_is_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kuulo-metrics-")


def on_starting(server):
    """Counts from an earlier run of the server are not this run's."""
    for stale in glob.glob(os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "*.db")):
        os.remove(stale)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_is_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
