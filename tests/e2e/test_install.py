"""The production install on a throwaway root (issue 15).

tests/install/run.sh enters fresh mount, network and PID namespaces and
there runs `make install PREFIX=/usr/local`, `WA_DOMAIN=wa.test sh
deploy/install.sh`, makes a self-signed certificate where the site names
it, enables the site the way install.sh says, fills in wa.env (a loopback
fake Graph), runs `nginx -t`, starts nginx and the installed units'
commands as systemd would (user, groups, environment files, directories,
UMask), and checks everything over https on 127.0.0.1:443 with --resolve.
It runs once for this module; each check below is one of its results.

Skipped, saying why, only when this machine cannot make the namespaces.
Afterwards nothing may be left on the machine (test_nothing_left).
"""
import os
import pwd
import subprocess
import sys
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(TOP, "tests", "install", "run.sh")

# What an install writes on a real machine; none of it may stay behind.
TRACES = ("/etc/wa-gateway", "/usr/local/bin/wa-fcgi", "/usr/local/bin/wa-worker",
          "/usr/local/bin/wactl", "/usr/local/share/wa-gateway", "/var/lib/wa-gateway",
          "/var/lib/wa-gateway-media", "/etc/nginx/sites-available/wa-gateway.conf",
          "/etc/nginx/sites-enabled/wa-gateway.conf", "/etc/nginx/wa_fastcgi_params",
          "/etc/systemd/system/wa-worker.service", "/etc/systemd/system/wa-fcgi.service",
          "/etc/systemd/system/wa-fcgi-api.service", "/etc/letsencrypt/live/wa.test",
          "/run/wa-gateway")


def machine_state():
    """The traces present now, and whether user wa exists."""
    try:
        pwd.getpwnam("wa")
        user = True
    except KeyError:
        user = False
    return {"user wa": user, **{p: os.path.lexists(p) for p in TRACES}}


def say(request, line):
    """A line on the terminal whatever the capture and -q: the skip reason,
    the time taken and the scores must show in `make test`'s output."""
    pm = request.config.pluginmanager
    tr, cap = pm.getplugin("terminalreporter"), pm.getplugin("capturemanager")
    if tr is None or cap is None:
        sys.stderr.write(line + "\n")
        return
    with cap.global_and_fixture_disabled():
        tr.write_line(line)


@pytest.fixture(scope="module")
def install(tmp_path_factory, request):
    out = tmp_path_factory.mktemp("install")
    before = machine_state()
    build = os.environ.get("BUILD_DIR", os.path.join(TOP, "build"))
    t0 = time.monotonic()
    proc = subprocess.run(["sh", RUN, str(out), build], capture_output=True, text=True,
                          timeout=900)
    took = time.monotonic() - t0
    results = {}
    with open(out / "results") as f:
        for line in f:
            name, state, detail = line.rstrip("\n").split("|", 2)
            results[name] = (state, detail)
    if results.get("namespace", ("",))[0] == "skip":
        why = ("install test skipped: this machine cannot create the namespaces: "
               + results["namespace"][1])
        say(request, "\n" + why)
        pytest.skip(why)
    assert proc.returncode == 0, "tests/install/run.sh exited %d: %s" % (
        proc.returncode, (proc.stdout + proc.stderr)[-2000:])
    # The figures the issue asks for.
    say(request, "\ninstall test: the throwaway root took %.1f s; %s" % (
        took, results.get("systemd_security", ("", "no scores"))[1]))
    return {"results": results, "out": out, "before": before, "seconds": took}


def result(install, name):
    state, detail = install["results"].get(name, ("missing", "the harness never ran it"))
    log = install["out"] / ("log." + name)
    tail = ""
    if state != "ok" and log.exists():
        tail = "\n--- log." + name + " (end) ---\n" + log.read_text(errors="replace")[-3000:]
    assert state == "ok", "%s: %s%s" % (name, detail, tail)
    return detail


def test_make_install_and_help(install):
    """make install puts binaries, schema, flow and inbox in /usr/local; each
    program answers --help on stdout with exit 0."""
    result(install, "make_install")


def test_install_sh(install):
    """User wa (no login, www-data not in its group), /var/lib/wa-gateway wa:wa
    0750, the media directory wa:www-data 2750, /etc/wa-gateway 0700, wa.env
    0600, the site for wa.test, every unit; the site waits for its certificate."""
    result(install, "install_sh")


def test_certificate_and_site_enabled(install):
    """A self-signed certificate where the site names it; the enabling command
    install.sh printed works."""
    result(install, "certificate")


def test_install_sh_again_keeps_config(install):
    result(install, "install_sh_again")


def test_nginx_t(install):
    result(install, "configure")
    result(install, "nginx_t")


def test_systemd_analyze_verify(install):
    result(install, "systemd_verify")


def test_systemd_security_scores(install):
    """Each service scores 2.0 or lower (systemd-analyze security --offline)."""
    result(install, "systemd_security")


def test_units_start_as_systemd_would(install):
    """The units' commands as wa; sockets wa:www-data 0660 in a 2750
    directory; wa.db wa:wa 0600."""
    result(install, "units_start")
    result(install, "https_health")


def test_https_verify_handshake(install):
    result(install, "https_verify")


def test_https_signed_webhook_applied(install):
    result(install, "https_webhook")


def test_https_api_key(install):
    result(install, "api_key")


def test_tls_1_0_and_1_1_refused(install):
    result(install, "tls_old_refused")


def test_hsts(install):
    result(install, "hsts")


def test_http_redirect_except_acme(install):
    result(install, "http_redirect")


def test_media_served_by_nginx_not_database(install):
    """A downloaded image is served by nginx (www-data), which still cannot
    reach the database."""
    result(install, "media_served")


def test_install_sh_moves_old_media(install):
    """Media an older install kept in the state directory move to the media
    directory, group www-data."""
    result(install, "media_moved")


def test_backup_unit_runs(install):
    """wa-backup.service run as its timer starts it: wactl backup --rotate
    writes the day's copy, 0600, with the webhook's message in it."""
    result(install, "backup_rotate")


def test_doctor_on_the_install(install):
    """wactl doctor as root: LEVEL NAME DETAIL lines, every check OK on this
    install, exit status as the lines say."""
    result(install, "doctor")


def test_nothing_left(install):
    """No user wa, no binaries, no /etc/wa-gateway ... on the real machine
    after the run, unless they were there before it."""
    after = machine_state()
    left = [k for k, v in after.items() if v and not install["before"][k]]
    assert not left, "the install test left on the machine: " + ", ".join(left)
    there = [k for k, v in after.items() if v]
    if there:
        pytest.skip("these were on the machine before the test, so it cannot "
                    "tell whether it left them: " + ", ".join(there))
