"""The dashboard in headless Chromium, against a real dashboard process, real worker processes
and the test Redis: live figures, filter + requeue (then the job runs), delete, bulk requeue,
read-only mode, CSRF refusal, no patient data on any page, a screenshot of each page."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from rq_ext import contract, enqueue, timeline
from tests.conftest import start_worker_process, wait_for
from tests.dashboard_browser import (
    Dashboard,
    click,
    log_in,
    make_driver,
    open_page,
    screenshot,
    skip_without_browser,
    texts,
    wait_until,
)

pytestmark = skip_without_browser()

TOKEN = "dash-t0ken-for-tests"
NUMBER = "9812345678"
TEXT = "HbA1c 9.4 - please see Dr Rao"
KEY = "sk_live_TOPSECRET42"
ALLOW = {"JOB_FUNCTION_ALLOWLIST": "tasks.,tests.jobs.,tests.dashboard_jobs."}


def task(name: str = "x") -> dict:
    return {
        "payload": {"task": 1, "to": "+91" + NUMBER, "message": TEXT, "gateway": "msg91", "config": {"authkey": KEY}},
        "name": name,
    }


@pytest.fixture(scope="module")
def driver():
    drv = make_driver()
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def dashboard(redis_server):
    dash = Dashboard(redis_server.url, token=TOKEN)
    yield dash
    dash.stop()


@pytest.fixture(scope="module")
def read_only(redis_server):
    dash = Dashboard(redis_server.url)
    yield dash
    dash.stop()


def run_burst(redis_server, queue: str) -> None:
    proc = start_worker_process(redis_server.url, "--customq", queue, "--burst", **ALLOW)
    assert proc.wait(timeout=60) == 0, Path(proc.log_path).read_text()[-2000:]


def failed_jobs(conn, redis_server, queue: str, n: int, exhausted: int = 0) -> tuple[list, list]:
    """``n`` jobs failed permanently and ``exhausted`` failed after their last retry, by a real worker."""
    flaky = [
        enqueue(queue, "tests.dashboard_jobs.flaky", task(f"f{i}"), priority=10 + i, connection=conn) for i in range(n)
    ]
    tired = []
    for i in range(exhausted):
        job = enqueue(queue, "tests.jobs.transient", task(f"t{i}"), priority=30 + i, connection=conn)
        conn.hset(job.key, contract.RETRY_COUNT, 10)
        tired.append(job)
    run_burst(redis_server, queue)
    assert conn.zcard(f"rq:failed:{queue}") == n + exhausted
    return flaky, tired


def cells(driver, table: str, column: int) -> list[str]:
    return texts(driver, f"#{table} tbody tr td:nth-child({column})")


def filter_failed(driver, **fields: str) -> None:
    from selenium.webdriver.common.by import By

    for name, value in fields.items():
        box = driver.find_element(By.CSS_SELECTOR, f"#filters [name={name}]")
        box.clear()
        box.send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "#filters button").click()


def result_text(driver) -> str:
    return wait_until(driver, lambda d: d.find_element("id", "result").text)


def test_overview_shows_the_real_depth_live(conn, settings, redis_server, dashboard, driver):
    for i in range(7):
        enqueue("dashq", "tests.jobs.record", {"name": str(i)}, priority=i, connection=conn)
    open_page(driver, dashboard.url + "/")
    driver.execute_script("window.notReloaded = true")
    depth = lambda d: dict(zip(cells(d, "queues", 1), cells(d, "queues", 3), strict=True)).get("dashq")  # noqa: E731
    assert wait_until(driver, lambda d: depth(d) == "7")
    assert wait_until(
        driver, lambda d: "queue dashq: 7 job(s) waiting and no live worker serves it" in "".join(texts(d, "#warnings"))
    )
    run_burst(redis_server, "dashq")
    assert wait_until(driver, lambda d: depth(d) == "0")
    assert driver.execute_script("return window.notReloaded") is True  # refreshed without a reload
    screenshot(driver, "overview-live")


def test_failed_job_found_by_filter_requeued_then_runs(conn, settings, redis_server, dashboard, driver):
    flaky, _ = failed_jobs(conn, redis_server, "dashf", 3)
    target = flaky[1]
    log_in(driver, dashboard, TOKEN)
    open_page(driver, dashboard.url + "/page/failed")
    filter_failed(driver, job_id=target.id)
    assert wait_until(driver, lambda d: cells(d, "failed", 2) == [target.id])
    click(driver, f"#failed input[data-id='{target.id}']")
    driver.find_element("id", "requeue-selected").click()
    assert result_text(driver) == "Requeued 1 job(s)"
    assert conn.zscore("rq:queue:dashf", target.id) == 11.0 and conn.type("rq:queue:dashf") == b"zset"
    conn.set("heal", 1)
    run_burst(redis_server, "dashf")
    assert conn.get(f"runs:{target.id}") == b"1" and conn.hget(target.key, "status") == b"finished"
    assert conn.zcard("rq:failed:dashf") == 2
    assert "dashboard requeue by session" in dashboard.output()


def test_delete_selected(conn, settings, redis_server, dashboard, driver):
    flaky, _ = failed_jobs(conn, redis_server, "dashd", 2)
    log_in(driver, dashboard, TOKEN)
    open_page(driver, dashboard.url + "/page/failed")
    filter_failed(driver, queue="dashd")
    assert wait_until(driver, lambda d: len(cells(d, "failed", 2)) == 2)
    click(driver, f"#failed input[data-id='{flaky[0].id}']")
    driver.find_element("id", "delete-selected").click()
    assert result_text(driver) == "Deleted 1 job(s)"
    assert not conn.exists(flaky[0].key) and conn.zscore("rq:failed:dashd", flaky[0].id) is None
    assert wait_until(driver, lambda d: cells(d, "failed", 2) == [flaky[1].id])


def test_bulk_requeue_of_a_filter_keeps_priorities(conn, settings, redis_server, dashboard, driver):
    flaky, tired = failed_jobs(conn, redis_server, "dashb", 2, exhausted=3)
    log_in(driver, dashboard, TOKEN)
    open_page(driver, dashboard.url + "/page/failed")
    filter_failed(driver, queue="dashb", reason="retries exhausted")
    assert wait_until(driver, lambda d: sorted(cells(d, "failed", 2)) == sorted(j.id for j in tired))
    assert set(cells(driver, "failed", 4)) == {"retryable exhausted"}
    driver.find_element("id", "requeue-matching").click()
    driver.switch_to.alert.accept()
    assert result_text(driver) == "Requeued 3 job(s)"
    scores = {contract.text(k): v for k, v in conn.zrange("rq:queue:dashb", 0, -1, withscores=True)}
    assert scores == {j.id: float(j.priority) for j in tired}
    assert {contract.text(i) for i in conn.zrange("rq:failed:dashb", 0, -1)} == {j.id for j in flaky}
    screenshot(driver, "failed-after-bulk-requeue")


def test_read_only_without_a_token(conn, settings, redis_server, read_only, driver):
    flaky, _ = failed_jobs(conn, redis_server, "dashr", 1)
    driver.delete_all_cookies()
    open_page(driver, read_only.url + "/page/failed")
    assert "read-only" in driver.find_element("css selector", "header").text
    assert wait_until(driver, lambda d: cells(d, "failed", 2) == [flaky[0].id])
    for button in ("requeue-selected", "requeue-matching", "delete-selected", "delete-matching"):
        assert not driver.find_element("id", button).is_enabled()
    status = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/failed/requeue', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify({filter: {}})}).then(r => done(r.status));"
    )
    assert status == 403 and conn.zcard("rq:failed:dashr") == 1
    assert (
        requests.post(
            read_only.url + "/api/failed/delete",
            json={"filter": {}},
            headers={"Authorization": "Bearer " + TOKEN},
            timeout=5,
        ).status_code
        == 403
    )


def test_csrf_refusal(conn, settings, redis_server, dashboard, driver):
    failed_jobs(conn, redis_server, "dashc", 1)
    log_in(driver, dashboard, TOKEN)
    open_page(driver, dashboard.url + "/page/failed")
    script = (
        "const done = arguments[arguments.length - 1];"
        "const headers = {'Content-Type': 'application/json'};"
        "if (arguments[0]) headers['X-CSRF-Token'] = arguments[0];"
        "fetch('/api/failed/requeue', {method: 'POST', headers: headers, credentials: 'same-origin',"
        " body: JSON.stringify({filter: {queue: 'dashc'}})}).then(r => r.json().then(j => done([r.status, j])));"
    )
    status, answer = driver.execute_async_script(script, "")
    assert status == 403 and "CSRF" in answer["error"] and conn.zcard("rq:failed:dashc") == 1
    status, answer = driver.execute_async_script(script, "forged-token")
    assert status == 403 and conn.zcard("rq:failed:dashc") == 1
    csrf = driver.find_element("css selector", "meta[name=csrf-token]").get_attribute("content")
    status, answer = driver.execute_async_script(script, csrf)
    assert status == 200 and answer["count"] == 1
    assert "CSRF token missing or wrong" in dashboard.output()


def _populate_every_page(conn, redis_server):
    """Data for every page: waiting, delayed, awaiting retry, failed, in flight, outbox, charts."""
    for i in range(4):
        enqueue("sms", "tasks.sms.send_sms", task(str(i)), priority=i * 5, connection=conn)
    enqueue("email", "tasks.sms.send_sms", task("e"), priority=2, connection=conn)
    enqueue("sms", "tasks.sms.send_sms", task("later"), delay=900, connection=conn)
    conn.zadd(
        contract.AWAITING_RETRY,
        {enqueue("whatsapp", "tasks.sms.send_sms", task("w"), connection=conn).id: time.time() - 40},
    )
    conn.zrem("rq:queue:whatsapp", *[contract.text(i) for i in conn.zrange(contract.AWAITING_RETRY, 0, -1)])
    failed_jobs(conn, redis_server, "dashp", 2, exhausted=1)
    entry = {
        "kind": "callback",
        "job_id": "abc",
        "url": "https://lab.example/cb?token=zzz",
        "attempts": 2,
        "created": time.time() - 30,
        "last_error": f"HTTP 502 for +91{NUMBER}",
    }
    conn.zadd("fusion:outbox:due", {"ob1": time.time() + 20})
    conn.hset("fusion:outbox:entries", "ob1", json.dumps(entry))
    conn.lpush("fusion:outbox:dead", json.dumps({**entry, "kind": "retry", "attempts": 8}))
    now = time.time()
    with conn.pipeline() as pipe:
        for minute in range(0, 1440, 7):
            n = 3 + (minute * 7) % 11
            outcomes = [("sms", "sms", "msg91", "finished")] * n + [("email", "email", "ses", "finished")] * (n // 2)
            outcomes += [("sms", "sms", "msg91", "failed")] * (minute % 3)
            timeline.record(pipe, outcomes, now - minute * 60)
        pipe.execute()
    slow = enqueue("slow", "tests.jobs.record", {"name": "slow", "sleep": 30}, connection=conn)
    proc = start_worker_process(redis_server.url, "--customq", "slow,sms,email", "--name", "lab-worker-1", **ALLOW)
    wait_for(lambda: conn.zscore(contract.CLAIMS, slow.id), timeout=20)
    return proc


PAGES = {
    "overview": "/",
    "queue": "/queue/sms",
    "delayed": "/page/delayed",
    "inflight": "/page/inflight",
    "failed": "/page/failed",
    "workers": "/page/workers",
    "outbox": "/page/outbox",
    "charts": "/page/charts",
}
APIS = (
    "/api/queues",
    "/api/overview",
    "/api/queue/sms",
    "/api/delayed",
    "/api/awaiting",
    "/api/inflight",
    "/api/failed",
    "/api/workers",
    "/api/outbox",
    "/api/charts?range=24h&by=gateway",
)


def test_no_patient_data_on_any_page_and_a_screenshot_of_each(conn, settings, redis_server, dashboard, driver):
    worker = _populate_every_page(conn, redis_server)
    try:
        log_in(driver, dashboard, TOKEN)
        seen = []
        for name, path in PAGES.items():
            open_page(driver, dashboard.url + path)
            seen += [driver.page_source, driver.find_element("tag name", "body").text]
            screenshot(driver, name)
        for api in APIS:
            seen.append(requests.get(dashboard.url + api, timeout=10).text)
        everything = "\n".join(seen)
        for secret in (NUMBER, TEXT, "HbA1c", KEY, "TOPSECRET", "token=zzz"):
            assert secret not in everything, secret
        assert "********5678" in everything  # recipients are shown, masked
        assert "lab-worker-1" in everything and "slow" in everything
    finally:
        worker.terminate()
        worker.wait(timeout=60)
