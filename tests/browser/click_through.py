"""Drive headless Chromium over the DevTools protocol on a pipe (--remote-debugging-pipe):
open a listing as a phone in dark mode, screenshot it, click the link named argv[2], and print
where that led and the page's text. Bounded: every wait has a deadline; Chromium is killed at
the end.

usage: click_through.py LISTING_URL LINK_TEXT LISTING_PNG FILE_PNG PROFILE_DIR
"""
import base64, json, os, select, subprocess, sys, time

url, link, listing_png, file_png, profile = sys.argv[1:6]
DEADLINE = time.monotonic() + 60

to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()


# Chromium reads commands on fd 3 and writes replies and events on fd 4: the shell puts the
# pipe ends there.
chrome = subprocess.Popen(
    [
        "sh", "-c", f'exec chromium "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}', "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--remote-debugging-pipe", "--user-data-dir=" + profile,
        "about:blank",
    ],
    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None if os.environ.get("CDP_DEBUG") else subprocess.DEVNULL,
    pass_fds=(to_chrome_r, from_chrome_w),
)
os.close(to_chrome_r)
os.close(from_chrome_w)
buffer = b""
next_id = 0
events = []


def read_message():
    global buffer
    while b"\0" not in buffer:
        left = DEADLINE - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from chromium")
        ready, _, _ = select.select([from_chrome_r], [], [], left)
        if ready:
            chunk = os.read(from_chrome_r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            buffer += chunk
    message, buffer = buffer.split(b"\0", 1)
    return json.loads(message)


def call(method, session=None, **params):
    global next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params}
    if session:
        message["sessionId"] = session
    os.write(to_chrome_w, json.dumps(message).encode() + b"\0")
    while True:
        reply = read_message()
        if reply.get("id") == next_id:
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply["result"]
        events.append(reply)


def wait_event(method):
    while True:
        for i, event in enumerate(events):
            if event.get("method") == method:
                del events[i]
                return event
        events.append(read_message())


try:
    target = call("Target.createTarget", url="about:blank")["targetId"]
    s = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    call("Page.enable", s)
    call("Emulation.setDeviceMetricsOverride", s, width=390, height=844, deviceScaleFactor=2, mobile=True)
    call("Emulation.setEmulatedMedia", s, features=[{"name": "prefers-color-scheme", "value": "dark"}])
    call("Page.navigate", s, url=url)
    wait_event("Page.loadEventFired")
    shot = call("Page.captureScreenshot", s, format="png")["data"]
    with open(listing_png, "wb") as f:
        f.write(base64.b64decode(shot))
    facts = call("Runtime.evaluate", s, returnByValue=True, expression="""JSON.stringify({
        scripts: document.scripts.length,
        rows: document.querySelectorAll('tbody tr').length,
        background: getComputedStyle(document.body).backgroundColor,
        overflow: document.documentElement.scrollWidth > window.innerWidth,
    })""")["result"]["value"]
    print("listing", facts)
    clicked = call("Runtime.evaluate", s, returnByValue=True, expression=f"""(() => {{
        const a = [...document.querySelectorAll('a')].find(a => a.textContent === {json.dumps(link)});
        if (!a) return false;
        a.click();
        return true;
    }})()""")["result"]["value"]
    if not clicked:
        raise RuntimeError("no link " + link)
    wait_event("Page.loadEventFired")
    shot = call("Page.captureScreenshot", s, format="png")["data"]
    with open(file_png, "wb") as f:
        f.write(base64.b64decode(shot))
    page = call("Runtime.evaluate", s, returnByValue=True,
                expression="location.href + '\\n' + document.body.innerText")["result"]["value"]
    print("file", page)
finally:
    chrome.kill()
    chrome.wait()
