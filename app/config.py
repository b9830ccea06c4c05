"""Every Kuulo setting, with its default and why it exists.

Each setting can be overridden by an environment variable named ``KUULO_<NAME>``
(``KUULO_DATABASE_URL``, ``KUULO_SMTP_HOST`` …). Values that parse as JSON (numbers,
``true``/``false``) are read as such. This module and ``create_app`` are the only places
that read the environment (architecture rule 9).
"""
from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class DefaultConfig:
    # "development" or "production"; production refuses the demo loader and insecure secrets.
    ENV_NAME = "development"
    # Signs sessions, CSRF tokens and reset links. MUST be set in production.
    SECRET_KEY = "kuulo-dev-secret-change-me"
    # Key for the keyed hash (HMAC) of national identity codes; MUST be set in production.
    IDENTITY_HASH_KEY = "kuulo-dev-identity-key-change-me"
    # Refuse to start with another IDENTITY_HASH_KEY than the one whose fingerprint the database keeps
    # (app/platform/identity_key.py). None = on in production, off otherwise and under TESTING.
    IDENTITY_KEY_CHECK: bool | None = None
    # SQLAlchemy URL. SQLite under instance/ by default; postgresql+psycopg://… in production.
    DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'instance' / 'kuulo.db'}"
    # Log every SQL statement (debugging only).
    DATABASE_ECHO = False
    # Database connections each process keeps open: at least the server's threads per worker
    # (gunicorn --threads), or requests queue for a connection and surplus ones are opened and
    # closed on every request.
    DATABASE_POOL_SIZE = 20
    DATABASE_PING_AFTER_SECONDS = 5  # a pooled connection idle this long is pinged before use
    # While the database cannot be reached, every route answers 503 with this Retry-After (seconds).
    DATABASE_DOWN_RETRY_AFTER_SECONDS = 30
    # Public base URL used in emails and feeds (links must work outside a request). Required in production.
    # Empty (development only): the request's own host, and http://127.0.0.1:5000 outside a request
    # (app/platform/links.py).
    BASE_URL = ""
    # Languages offered in the switcher, in this order; the first is the fallback.
    LANGUAGES = ["fi", "sv", "en"]
    # Patron pages, emails and notices also speak these (a patron's own language, or her library's default):
    # the Czech library's patrons read Czech; staff pages stay in LANGUAGES.
    PATRON_LANGUAGES = ["fi", "sv", "en", "cs"]
    # Language when neither the user nor Accept-Language says anything.
    BABEL_DEFAULT_LOCALE = "fi"
    # Time zone in which dates and times are shown to people.
    BABEL_DEFAULT_TIMEZONE = "Europe/Helsinki"
    # Media store: "local" (directory MEDIA_ROOT) or "s3".
    MEDIA_BACKEND = "local"
    # Directory for local media (audiobooks, uploads, status snapshots).
    MEDIA_ROOT = str(PROJECT_ROOT / "media" / "store")
    # S3-compatible store (used when MEDIA_BACKEND = "s3").
    S3_BUCKET = "kuulo-media"
    S3_ENDPOINT_URL = ""  # empty = AWS; set for MinIO, moto_server, etc.
    S3_REGION = "eu-north-1"
    S3_ACCESS_KEY_ID = ""
    S3_SECRET_ACCESS_KEY = ""
    # Outgoing mail: SMTP server; nothing is sent from a request, the outbox job sends.
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = 25
    SMTP_USERNAME = ""
    SMTP_PASSWORD = ""
    SMTP_STARTTLS = False
    SMTP_SSL = False  # implicit TLS from the first byte (port 465) instead of STARTTLS; certificates are verified
    SMTP_TIMEOUT_SECONDS = 10
    MAIL_FROM = "Kuulo <noreply@kuulo.test>"
    # How the outbox job hands over email: "smtp"; "file" (one .eml per message in MAIL_FILE_DIR, named by its
    # outbox key, so a resend overwrites it); "console" (printed to stdout). Empty: smtp in production, under
    # TESTING (the suite has its own SMTP server) and when SMTP_HOST or SMTP_PORT is set; file otherwise.
    MAIL_BACKEND = ""
    MAIL_FILE_DIR = str(PROJECT_ROOT / "instance" / "mail")
    # Logs: "text" or "json" (one object per line). Empty: json in production, text otherwise.
    LOG_FORMAT = ""
    LOG_LEVEL = "INFO"
    # /readyz: the checks that must pass for a 200 (the others are reported only); outbox backlog limits
    # (email and SMS waiting, and the age of the oldest); how old the scheduler's newest activity (a finished
    # run or a running job's heartbeat) may be. A scheduler that never ran fails readiness in production only.
    READY_REQUIRED = ["database", "media", "outbox", "scheduler"]
    READY_OUTBOX_MAX_PENDING = 10000
    READY_OUTBOX_MAX_AGE_SECONDS = 3600
    READY_SCHEDULER_MAX_AGE_SECONDS = 300
    # /metrics: the bearer token Prometheus sends. Empty: refused (403) in production; in development open
    # to clients on loopback only.
    METRICS_TOKEN = ""
    # SMS gateway: "logging" writes SMS to the log (and says so); plug a real one in app/notify/channels.py.
    SMS_GATEWAY = "logging"
    # Outbox delivery: attempts before a message is marked failed, and the first backoff (doubles each time).
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BACKOFF_SECONDS = 60
    # Wrong PINs/passwords per card before a temporary lockout, the window they are counted in, and its length.
    LOGIN_MAX_FAILURES = 10
    LOGIN_FAILURE_WINDOW_MINUTES = 60
    LOGIN_LOCKOUT_MINUTES = 30
    # Lifetime of reader-app device tokens and of staff API tokens (days).
    DEVICE_TOKEN_DAYS = 90
    STAFF_TOKEN_DAYS = 365
    # Lifetime of one-time password/PIN reset links (hours).
    RESET_LINK_HOURS = 24
    # Reverse proxies in front of Kuulo whose X-Forwarded-For/-Proto/-Host are trusted (app/platform/proxy.py):
    # 0 = none, the client is the TCP peer; 1 = one nginx. Every one of them must set those headers.
    PROXY_COUNT = 0
    # Send cookies only over HTTPS (enable behind TLS in production).
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # CSRF tokens do not expire with time (they are bound to the session); avoids lost long forms.
    WTF_CSRF_TIME_LIMIT = None
    # Scheduler: run jobs in this process only when explicitly started with `flask jobs run`.
    SCHEDULER_TIMEZONE = "Europe/Helsinki"
    # A running job renews its lock every JOB_HEARTBEAT_SECONDS; a lock not renewed for JOB_STALE_SECONDS
    # (at least twice the heartbeat) belongs to a dead process and is taken over at once.
    JOB_HEARTBEAT_SECONDS = 15
    JOB_STALE_SECONDS = 60
    # Extra modules (dotted names) whose ``JOBS`` list joins the schedule: a site's own jobs, the tests' jobs.
    JOB_MODULES: list[str] = []
    # Tests and demos only: a fixed ISO datetime that replaces the wall clock for requests and jobs.
    FAKE_NOW = ""
    # Institutions: how long a reviewer's claim keeps others out; the processing target; link and upload limits.
    INSTITUTIONS_CLAIM_MINUTES = 120
    INSTITUTIONS_TARGET_BUSINESS_DAYS = 2
    INSTITUTIONS_CREDENTIALS_LINK_HOURS = 168
    INSTITUTIONS_DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    # CD clubs: delivery day of the month and its shift off non-business days, production lead time,
    # holidays' country, disc capacity ("mp3" by size or "audio" by minutes), default disc cap per member,
    # how early an unfilled period is flagged, and how late the production-start job still opens a run.
    CDCLUB_DELIVERY_DAY = 15
    CDCLUB_DELIVERY_SHIFT = "next_business_day"
    CDCLUB_LEAD_TIME_DAYS = 35
    CDCLUB_HOLIDAY_COUNTRY = "FI"
    CDCLUB_DISC_KIND = "mp3"
    CDCLUB_DISC_CAPACITY_MB = 700
    CDCLUB_DISC_CAPACITY_MINUTES = 80
    CDCLUB_DEFAULT_DISC_CAP = 14
    CDCLUB_UNFILLED_WARNING_DAYS = 14
    CDCLUB_CATCH_UP_DAYS = 20
    # The sender printed on every mailing label (lines separated by "\n" or "|"): where undeliverable CDs
    # come back. Empty: the labels have none and the run page says so.
    CDCLUB_RETURN_ADDRESS = ""
    # The free-postage marking for literature for the blind (Posti / UPU "Cécogrammes"), on every label.
    CDCLUB_FREE_POSTAGE_MARK = "Näkövammaisten kirjoitus / Literature for the blind"
    # Status page: per-instance cache of rendered pages and of the gate's window list (a change in the same
    # process clears it at once; other instances see it within this time); advance notice of planned breaks to
    # patrons; re-render the database-down snapshot on every change; how long to answer from the snapshot
    # after a database failure before trying the database again.
    STATUS_CACHE_SECONDS = 5
    STATUS_NOTICE_DAYS = 21
    STATUS_SNAPSHOT_ON_CHANGE = True
    STATUS_DATABASE_RETRY_SECONDS = 10
    # Lending: the circulation preset for e-loans; tracks streamed by the app ("stream", HTTP Range) or by
    # presigned S3 URLs ("redirect"); presigned URL lifetime (never beyond the loan); privacy: ended e-loans
    # are deleted after this many days.
    LENDING_POLICY = "celia"
    LENDING_TRACK_DELIVERY = "stream"
    LENDING_PRESIGNED_SECONDS = 300
    LENDING_LOAN_HISTORY_DAYS = 90
    # Catalogue import: the MARC field holding the copies — "952" (Koha's export: $p barcode, $a branch, $y material
    # type, $v price, $c shelf location, $o call number) or "852" (MARC 21 holdings: $p, $b, $x, $9, $c, $h) — with
    # subfields remapped after it if the export differs, e.g. "952 branch=b price=g" (`catalogue import --holdings`).
    CATALOGUE_HOLDINGS_TAG = "952"
    # Registration: lifetime of the set-PIN link in the credentials email (hours); how long API
    # Idempotency-Keys are kept (hours, at least 24); after how many seconds an unfinished key may be taken over.
    REGISTRATION_LINK_HOURS = 336
    REGISTRATION_IDEMPOTENCY_HOURS = 24
    REGISTRATION_IDEMPOTENCY_LEASE_SECONDS = 60
    # Circulation: Paytrail merchant id, signing secret and API (defaults: Paytrail's public test merchant —
    # refused in production); where the browser lands after paying; loans per transaction in the nightly job;
    # the "due soon" marker; how long cancelled holds stay visible.
    PAYTRAIL_ACCOUNT = "375917"
    PAYTRAIL_SECRET = "SAIPPUAKAUPPIAS"
    PAYTRAIL_API_URL = "https://services.paytrail.com"
    CIRCULATION_PAYMENT_DONE_URL = "/"
    CIRCULATION_NIGHTLY_BATCH_SIZE = 2000
    # Notice batches the nightly job runs side by side; 0 = 2 on PostgreSQL, 1 on SQLite.
    CIRCULATION_NIGHTLY_WORKERS = 0
    CIRCULATION_DUE_SOON_DAYS = 3
    CIRCULATION_CANCELLED_HOLDS_VISIBLE_DAYS = 3
    # Upper limit for request bodies: None = the largest upload (a signed consent document) plus 1 MiB of form
    # fields; JSON API bodies are limited to API_JSON_MAX_BYTES. Larger bodies are answered 413.
    MAX_CONTENT_LENGTH: int | None = None
    API_JSON_MAX_BYTES = 1024 * 1024
    # Rate limits per client address on the anonymous endpoints (app/ratelimit.py), answered 429 with Retry-After.
    # On/off; None = on, except under TESTING (the suite posts many times; a test turns them on itself).
    RATELIMIT_ENABLED: bool | None = None
    # Where the counters live: "memory://" (each process its own) or redis://host:6379/0 (shared by all instances).
    RATELIMIT_STORAGE_URL = "memory://"
    # Prefix of the counters' keys, so that deployments sharing one Redis count apart.
    RATELIMIT_KEY_PREFIX = "kuulo"
    # Public submissions (institution applications, web and API; status subscriptions; reset requests).
    RATELIMIT_SUBMISSIONS = "10/minute;100/hour"
    # Sign-ins: the reader apps' POST /api/v1/token and the login pages (each card also has its own lockout).
    RATELIMIT_SIGN_IN = "30/minute"
    # Operations (issue 15). Staff TOTP second factor: the issuer name in authenticator apps; the key that
    # encrypts TOTP secrets at rest (empty: derived from SECRET_KEY — changing that then means resetting every
    # staff user's TOTP); whether administrators must use TOTP (None = in production only).
    TOTP_ISSUER = "Kuulo"
    TOTP_ENCRYPTION_KEY = ""
    TOTP_REQUIRED_FOR_ADMINS: bool | None = None
    # Lifetime of the one-time set-password link emailed to a staff user created on /staff/admin/users (hours).
    STAFF_INVITATION_HOURS = 72
    # Run the scheduler in a daemon thread of the web process (the same job locks as `jobs run`).
    # None = on for `flask run` in development only; production runs `flask jobs run` as its own service.
    SCHEDULER_IN_PROCESS: bool | None = None
    # The SMS gateway (SMS_GATEWAY above: "logging" or "http"). http: POST to SMS_HTTP_URL with the body
    # SMS_HTTP_BODY_TEMPLATE (JSON; "{to}" and "{text}" are replaced by the number and the text, JSON-escaped),
    # authenticated by SMS_HTTP_BEARER_TOKEN or by SMS_HTTP_USERNAME + SMS_HTTP_PASSWORD (HTTP Basic).
    # Any 2xx answer counts as accepted; anything else is retried by the outbox.
    SMS_BACKEND = ""  # alias of SMS_GATEWAY (KUULO_SMS_BACKEND=log|http); wins when set
    SMS_HTTP_URL = ""
    SMS_HTTP_BODY_TEMPLATE = '{"to": "{to}", "text": "{text}"}'
    SMS_HTTP_USERNAME = ""
    SMS_HTTP_PASSWORD = ""
    SMS_HTTP_BEARER_TOKEN = ""
    SMS_HTTP_TIMEOUT_SECONDS = 10
    # The SIP2 server (`flask sip2 serve`, issue 20): an idle connection is closed after this many seconds;
    # messages are answered by this many worker threads (each with its own database connection).
    SIP2_IDLE_TIMEOUT_SECONDS = 300
    SIP2_WORKERS = 8
    # A terminal disabled on /staff/admin/terminals stops being answered within this many seconds.
    SIP2_TERMINAL_RECHECK_SECONDS = 10


def is_production(config: dict) -> bool:
    return str(config.get("ENV_NAME", "")).lower() == "production"


def check_production_settings(config: dict) -> None:
    """Refuse to start in production with the development secrets."""
    if not is_production(config):
        return
    for name in ("SECRET_KEY", "IDENTITY_HASH_KEY", "PAYTRAIL_SECRET"):
        if config.get(name) == getattr(DefaultConfig, name):
            raise RuntimeError(f"KUULO_{name} must be set in production")
    # Links in emails would otherwise name whatever host a request claimed (password-reset poisoning).
    if not str(dict.get(config, "BASE_URL") or "").strip():
        raise RuntimeError("KUULO_BASE_URL must be set in production")
