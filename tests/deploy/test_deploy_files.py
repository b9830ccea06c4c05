"""deploy/: the systemd units verify, the env example names only real settings and passes the production
checks, nginx accepts the config and the largest request the app accepts."""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from app import config, create_app, db
from app.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = ["kuulo-web.service", "kuulo-scheduler.service"]
INSTALL_ROOT = "/srv/kuulo"  # where docs/deploy.md installs the checkout; the units name it


def env_example() -> dict[str, str]:
    """The example as the shell reads it (`set -a; . kuulo.env`; systemd reads these lines alike)."""
    out = subprocess.run(["env", "-i", "bash", "-c", f"set -a; . '{DEPLOY / 'kuulo.env.example'}'; env -0"],
                         capture_output=True, check=True, timeout=30).stdout.decode()
    return {k: v for k, _, v in (item.partition("=") for item in out.split("\0") if item) if k.startswith("KUULO_")}


def gunicorn_settings() -> set[str]:
    """The KUULO_ variables gunicorn.conf.py reads."""
    return set(re.findall(r"os\.environ\.get\(\"(KUULO_[A-Z_]+)\"", (PROJECT_ROOT / "gunicorn.conf.py").read_text()))


def test_every_setting_in_the_env_example_exists():
    names = set(env_example())
    named = set(re.findall(r"^(KUULO_[A-Z0-9_]+)=", (DEPLOY / "kuulo.env.example").read_text(), re.M))
    assert names == named and len(names) > 30  # the shell read every line
    known = {f"KUULO_{name}" for name in vars(config.DefaultConfig) if name.isupper()} | gunicorn_settings()
    assert sorted(names - known) == [], "deploy/kuulo.env.example names settings that do not exist"


def test_the_env_example_is_a_complete_production_configuration(tmp_path, monkeypatch):
    """Read from the environment as in production (`create_app` → `from_prefixed_env`), the example passes the
    production checks with its placeholders as they stand: nothing production requires is missing from it."""
    for name in [n for n in os.environ if n.startswith("KUULO_")]:
        monkeypatch.delenv(name)
    for name, value in env_example().items():
        monkeypatch.setenv(name, value)
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "MEDIA_ROOT": str(tmp_path / "media"),
                      "RATELIMIT_STORAGE_URL": "memory://"})  # only what this machine lacks
    assert config.is_production(app.config) and app.config["IDENTITY_KEY_CHECK"] is True
    assert app.config["PROXY_COUNT"] == 1 and app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["LANGUAGES"] == ["fi", "sv", "en"] and app.config["MAIL_FROM"].startswith("Kuulo <")
    db.engine(app).dispose()


def test_nginx_accepts_the_largest_request_the_app_accepts(tmp_path):
    match = re.search(r"^\s*client_max_body_size\s+(\d+)([km]?);", (DEPLOY / "nginx-kuulo.conf").read_text(), re.M)
    assert match, "client_max_body_size missing"
    nginx_bytes = int(match.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[match.group(2)]
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "TESTING": True})
    assert nginx_bytes == app.config["MAX_CONTENT_LENGTH"]


def test_nginx_sets_every_header_the_app_trusts():
    conf = (DEPLOY / "nginx-kuulo.conf").read_text()
    for header in ("X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme",
                   "X-Forwarded-Host $host"):
        assert f"proxy_set_header {header};" in conf


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_units_verify(unit, tmp_path):
    """`systemd-analyze verify`, with the units' install root pointed at this checkout (its .venv has gunicorn
    and flask): unknown keys, bad values and missing executables fail."""
    text = (DEPLOY / unit).read_text()
    assert INSTALL_ROOT in text
    (tmp_path / unit).write_text(text.replace(INSTALL_ROOT, str(PROJECT_ROOT)))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / unit)],
                            capture_output=True, text=True, timeout=60)
    complaints = [line for line in (result.stdout + result.stderr).splitlines() if unit in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def test_the_verify_check_can_fail(tmp_path):
    """Guard against a check that cannot fail: a misspelt key is reported."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    bad = tmp_path / "kuulo-bad.service"
    bad.write_text("[Service]\nExecStart=/bin/true\nRestrat=always\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(bad)], capture_output=True, text=True,
                            timeout=60)
    assert "kuulo-bad.service" in result.stdout + result.stderr


def test_the_scheduler_unit_runs_the_scheduler_and_the_web_unit_gunicorn():
    assert re.search(r"^ExecStart=\S+/flask --app app jobs run$", (DEPLOY / UNITS[1]).read_text(), re.M)
    assert re.search(r"^ExecStart=\S+/gunicorn --config \S+/gunicorn.conf.py app:create_app\(\)$",
                     (DEPLOY / UNITS[0]).read_text(), re.M)


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="nginx or openssl not installed")
def test_the_nginx_config_is_accepted_by_nginx(tmp_path):
    """`nginx -t` on the example, with a throwaway certificate and paths under tmp_path."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=kuulo.example.fi", "-keyout", str(tmp_path / "privkey.pem"),
                    "-out", str(tmp_path / "fullchain.pem")], check=True, capture_output=True, timeout=60)
    site = (DEPLOY / "nginx-kuulo.conf").read_text().replace(
        "/etc/letsencrypt/live/kuulo.example.fi/", f"{tmp_path}/").replace(INSTALL_ROOT, str(PROJECT_ROOT))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                             "-c", str(tmp_path / "nginx.conf")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr
