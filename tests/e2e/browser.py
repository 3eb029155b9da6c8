"""browser.py: headless Chromium driven by Selenium for the inbox tests
and bench (Debian's chromium, chromium-driver and python3-selenium).

    b = Browser(base_url)                # 1280x800, or width=360
    b.get("/inbox/")
    b.screenshot("chat-list-desktop")    # $BUILD_DIR/test-output/NAME.png
    assert b.console_errors() == []

Every test that opens a page ends by checking console_errors(): the
inbox must log no error (a CSP refusal, a failed fetch, an exception).
"""
import os
import shutil

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By  # noqa: F401 (for importers)
from selenium.webdriver.support.ui import WebDriverWait

BUILD = os.environ.get("BUILD_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")
OUT = os.environ.get("WA_TEST_OUT") or os.path.join(BUILD, "test-output")


def chromium():
    """(chromium binary, chromedriver binary), or raise with the fix."""
    b = shutil.which("chromium") or "/usr/bin/chromium"
    d = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (os.path.exists(b) and os.path.exists(d)):
        raise RuntimeError("chromium and chromedriver are missing: "
                           "apt-get install chromium chromium-driver")
    return b, d


class Browser:
    def __init__(self, base_url, width=1280, height=800):
        binary, driver = chromium()
        o = webdriver.ChromeOptions()
        o.binary_location = binary
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-extensions", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--metrics-recording-only", "--no-default-browser-check",
                  "--window-size=%d,%d" % (width, height)):
            o.add_argument(a)
        o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.base = base_url.rstrip("/")
        self.d = webdriver.Chrome(service=Service(driver), options=o)
        self.d.set_window_size(width, height)
        self.d.set_page_load_timeout(30)
        self._logs = []

    def get(self, path):
        self.d.get(self.base + path)

    def wait(self, cond, timeout=5):
        """Waits until cond(driver) is truthy; returns its value.  An
        element the page redrew meanwhile (the inbox redraws rows as
        changes arrive) is a try that failed, not an error."""
        return WebDriverWait(self.d, timeout, poll_frequency=0.05,
                             ignored_exceptions=(StaleElementReferenceException,)
                             ).until(cond)

    def logs(self):
        """Every console entry since the page opened (kept across calls)."""
        self._logs.extend(self.d.get_log("browser"))
        return list(self._logs)

    def console_errors(self):
        return [e for e in self.logs() if e.get("level") == "SEVERE"]

    def screenshot(self, name):
        os.makedirs(OUT, exist_ok=True)
        path = os.path.join(OUT, name + ".png")
        self.d.save_screenshot(path)
        return path

    def quit(self):
        try:
            self.d.quit()
        except Exception:
            pass
