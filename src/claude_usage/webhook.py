"""The alerts' webhook (issue 15): a POST of a JSON body, with a timeout and retries.

The URL is a credential (it often carries a token in its path or query): only its masked form
(:func:`claude_usage.config.mask_url`, ``scheme://host/…``) is ever logged. Errors are logged
with their text masked too.

Run as ``python -m claude_usage.webhook`` it reads one alert body (JSON) on stdin and sends it
to the webhook of the settings file: the status line starts it as a detached process, so that
it never waits for a webhook (:func:`send_detached`); its failures go to ``webhook.log`` in the
user cache dir.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Callable

from claude_usage import __version__
from claude_usage.config import mask_url, mask_urls

log = logging.getLogger("claude_usage.webhook")
BACKOFF_S = 1.0  # the first retry waits this long, each next one twice as long
LOG_FILE = "webhook.log"


def post(url: str, body: dict[str, Any], timeout_s: float, retries: int, backoff_s: float = BACKOFF_S,
         sleep: Callable[[float], None] = time.sleep) -> bool:
    """POST ``body`` as JSON to ``url``: at most ``1 + retries`` attempts of ``timeout_s``
    seconds each, waiting ``backoff_s``, then twice as long, ... between them. A 2xx answer
    is success; a 4xx other than 408 and 429 is not retried (the same request would be refused
    again). Returns whether it was delivered; every failure is logged (masked URL)."""
    data = json.dumps(body).encode()
    shown = mask_url(url)
    for attempt in range(1, retries + 2):
        request = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": f"claude-usage/{__version__}"})
        final = attempt == retries + 1
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                answer.read(65536)
            return True
        except urllib.error.HTTPError as error:
            problem = f"HTTP {error.code}"
            final = final or (400 <= error.code < 500 and error.code not in (408, 429))
        except (TimeoutError, urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            problem = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) \
                else mask_urls(f"{type(reason).__name__}: {reason}")
        if final:
            log.error("webhook %s: not delivered after %d attempt(s): %s", shown, attempt, problem)
            return False
        wait = backoff_s * 2 ** (attempt - 1)
        log.warning("webhook %s: attempt %d failed (%s); trying again in %g s", shown, attempt, problem, wait)
        sleep(wait)
    return False  # pragma: no cover - the loop returns


def send_detached(body: dict[str, Any]) -> None:
    """Send ``body`` to the settings' webhook from a detached process (``python -m
    claude_usage.webhook``, body on stdin): the caller (the status line) does not wait. The URL
    is read from the settings file by that process, never passed on its command line."""
    import subprocess

    process = subprocess.Popen([sys.executable, "-m", "claude_usage.webhook"], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               close_fds=True)
    assert process.stdin is not None
    process.stdin.write(json.dumps(body).encode())  # a few hundred bytes: the pipe takes them at once
    process.stdin.close()


def main() -> int:
    """The detached sender: one alert body on stdin to the settings' webhook; logs to
    ``webhook.log`` in the user cache dir. Exit code 0 when delivered (or no webhook is set)."""
    from claude_usage.config import ConfigError, load_config
    from claude_usage.paths import cache_dir

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(filename=str(folder / LOG_FILE), level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        body = json.loads(sys.stdin.read())
        settings = load_config().alerts
    except (ValueError, ConfigError) as error:
        log.error("webhook: nothing sent: %s", mask_urls(str(error)))
        return 2
    if not settings.webhook_url:
        return 0
    delivered = post(settings.webhook_url, body, settings.webhook_timeout_s, settings.webhook_retries)
    return 0 if delivered else 1


if __name__ == "__main__":
    raise SystemExit(main())
