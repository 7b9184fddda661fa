"""Helpers of the browser tests: a real ``run_worker.py dashboard`` process and headless
Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, loopback only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ROOT, free_port, worker_env

CHROMIUM = os.environ.get("CHROMIUM_BINARY") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "tests" / "artifacts"
#: Only loopback: every other host fails to resolve, and any proxied request goes nowhere.
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1440,1000",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
)


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.path.exists(path):
            return f"{path} not found: apt-get install chromium chromium-driver ({package} missing)"
    return None


class Dashboard:
    """``python run_worker.py dashboard`` as a subprocess on a free loopback port."""

    def __init__(self, redis_url: str, token: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="fw-dashboard-", suffix=".log", delete=False)  # noqa: SIM115
        env = worker_env(redis_url, DASHBOARD_TOKEN=token)
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "run_worker.py"), "dashboard", "-c", "instance", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/api/queues", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("dashboard did not start: " + Path(self.log.name).read_text()[-2000:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return Path(self.log.name).read_text()


def make_driver() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads anything
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def wait_until(driver: Any, predicate: Any, timeout: float = 15.0) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))
    return wait.until(lambda d: predicate(d))


def texts(driver: Any, selector: str) -> list[str]:
    """The texts of every element matching ``selector``, read in one go (the page re-renders
    its tables every few seconds, so elements found earlier go stale)."""
    script = "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent);"
    return list(driver.execute_script(script, selector))


def click(driver: Any, selector: str) -> None:
    """Click the element matching ``selector`` as found now (see :func:`texts`)."""
    assert driver.execute_script(
        "const e = document.querySelector(arguments[0]); if (e) e.click(); return !!e;", selector
    )


def open_page(driver: Any, url: str) -> None:
    driver.get(url)
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.loaded === '1'"))


def screenshot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    extra = os.environ.get("DASHBOARD_SCREENSHOTS")  # e.g. docs/img, to refresh the docs' pictures
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(extra) / f"dashboard-{name}.png")
    return path


def log_in(driver: Any, dashboard: Dashboard, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    open_page(driver, dashboard.url + "/")
    field = driver.find_element(By.CSS_SELECTOR, "#login input[name=token]")
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login button").click()
    wait_until(driver, lambda d: d.execute_script("return document.body.dataset.canAct === '1'"))


def skip_without_browser() -> Any:
    reason = browser_missing()
    return pytest.mark.skipif(reason is not None, reason=f"browser tests skipped: {reason}")
