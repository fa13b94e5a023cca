#!/usr/bin/python3
"""The dashboard (docs/dashboard.html served at / by the status listener) in headless Chromium,
run inside the nospofd namespace against a lab of lib/status.py (VI_1 owning the VIP, a virtual
server over two nginx).

Cases:
  dashboard_live   the rendered DOM shows VI_1 MASTER and both real servers UP; after nginx
                   web1 is killed it shows web1 DOWN within a few seconds (each look is a
                   fresh page load, so it is what a person opening the page would see); a
                   screenshot is kept under BUILD/test-artifacts/; Chromium's net log shows
                   the page fetched nothing but the daemon's own URLs
Skipped (SKIP line) when chromium is not installed (scripts/deps.sh installs it).
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lib.runner import case, main  # noqa: E402
from lib.status import LISTEN_PORT, Exposition, StatusLab  # noqa: E402
from lib.util import TestFailure, expect, now, poll  # noqa: E402

VS = "TCP 192.0.2.100:80"
BASE = f"http://127.0.0.1:{LISTEN_PORT}/"


def chromium(ctx, lab, *args, timeout=40):
    """Runs headless Chromium in the nospofd namespace with a fresh profile; returns stdout."""
    profile = os.path.join(ctx.tmp, f"chromium-profile-{now():.6f}")
    argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--disable-default-apps", "--disable-extensions",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--virtual-time-budget=4000"] + list(args) + [BASE]
    env = dict(os.environ, HOME=ctx.tmp)
    try:
        res = subprocess.run(lab.node.exec_argv(argv), capture_output=True, timeout=timeout,
                             check=False, env=env)
    except subprocess.TimeoutExpired as exc:
        raise TestFailure(f"chromium did not finish within {timeout}s") from exc
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if res.returncode != 0:
        raise TestFailure(f"chromium failed ({res.returncode}): "
                          f"{res.stderr.decode(errors='replace')[-600:]}")
    return res.stdout.decode(errors="replace")


def cell_state(dom, attr, key):
    """The text of the .state cell in the row <tr attr="key">, or None."""
    m = re.search(r'<tr %s="%s">(.*?)</tr>' % (attr, re.escape(html.escape(key, quote=True))),
                  dom, re.S)
    if not m:
        return None
    s = re.search(r'<td class="state [A-Z]+">([A-Z]+)</td>', m.group(1))
    return s.group(1) if s else None


def net_log_requests(path):
    """(page, other): the URLs of the requests in a Chromium net log (URL_REQUEST_START_JOB)
    made for the page (its network partition is the daemon's site, or the page initiated
    them), and the browser's own background requests (update checks and the like, which no
    flag fully silences; they fail in the namespace anyway and are not the page's)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        log = json.loads(text)
    except ValueError:
        log = json.loads(text.rstrip().rstrip(",") + "]}")  # a log cut short at exit
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    page, other = set(), set()
    for ev in log.get("events", []):
        p = ev.get("params") or {}
        if ev.get("type") != start or "url" not in p:
            continue
        mine = (p.get("network_isolation_key", "").startswith("http://127.0.0.1") or
                p.get("initiator", "").startswith("http://127.0.0.1"))
        (page if mine else other).add(p["url"])
    return page, other


@case("dashboard_live", needs_ctl=True)
def dashboard_live(ctx):
    if not shutil.which("chromium"):
        print("SKIP dashboard_live (chromium not installed)", flush=True)
        return
    lab = StatusLab(ctx)
    lab.wait_ready()
    netlog = os.path.join(ctx.tmp, "netlog.json")
    dom = chromium(ctx, lab, f"--log-net-log={netlog}", "--dump-dom")
    rs1, rs2 = (f"{VS}|{ip}:80" for ip in lab.ips)
    expect(cell_state(dom, "data-instance", "VI_1") == "MASTER",
           f"VI_1 not shown MASTER: {cell_state(dom, 'data-instance', 'VI_1')}")
    expect(cell_state(dom, "data-rs", rs1) == "UP" and cell_state(dom, "data-rs", rs2) == "UP",
           "real servers not shown UP")
    expect("<svg" in dom and "polyline" in dom, "no sparkline in the page")
    urls, background = net_log_requests(netlog)
    foreign = sorted(u for u in urls if not u.startswith(BASE))
    expect(not foreign, f"the page requested foreign URLs: {foreign[:5]}")
    expect(all(BASE not in u for u in background), "a page request counted as background")
    expect({BASE, BASE + "status.json", BASE + "events.json"} <= urls,
           f"expected fetches missing from the net log: {sorted(urls)}")
    t_kill = now()
    lab.webs[0].kill()
    looks = []

    def shows_down():
        looks.append(cell_state(chromium(ctx, lab, "--dump-dom"), "data-rs", rs1))
        return looks[-1] == "DOWN"
    poll(shows_down, 15, interval=0, what="web1 DOWN on the dashboard")
    took = now() - t_kill
    expect(took < 10, f"DOWN appeared only {took:.1f}s after the kill")
    art = os.path.join(ctx.build, "test-artifacts")
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "dashboard.png")
    chromium(ctx, lab, f"--screenshot={shot}", "--window-size=1280,900",
             "--hide-scrollbars")
    expect(os.path.getsize(shot) > 10000, "screenshot missing or empty")
    m = Exposition(lab.http("/metrics")[2])
    served = m.value("nospof_status_http_responses_total", code=200)
    expect(m.value("nospof_status_http_responses_total", code=400) == 0, "a 400 was served")
    ctx.note(f"DOWN on the page {took:.1f}s after the kill ({len(looks)} page loads: {looks});"
             f" the page requested {sorted(urls)}, all on the daemon ({len(background)} background"
             f" requests of the browser itself ignored); {served:.0f} responses;"
             f" screenshot {shot}")


if __name__ == "__main__":
    main()
