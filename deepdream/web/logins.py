"""Logins to a page served with `--auth`: the password compared in constant time, wrong ones slowed per address.

After a wrong login, the next try from the same client address waits
`FIRST_DELAY_S`, doubling with each further failure up to `MAX_DELAY_S`; a
right login clears the address. Tries from one address are answered one at a
time, and past `MAX_WAITING` waiting ones the rest are refused at once (HTTP
429), so guessing costs minutes per hundred tries, not a second, while a
visitor at another address logs in without delay.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import hmac
import json
import time
from typing import Callable

FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0
MAX_WAITING = 4
# Addresses remembered at most (the least recently seen are forgotten first).
ADDRESSES_KEPT = 10_000


def password_check(user: str, password: str) -> Callable[[str, str], bool]:
    """Gradio's `auth` callable for one account: both names compared with `hmac.compare_digest`."""
    def check(given_user: str, given_password: str) -> bool:
        same_user = hmac.compare_digest(given_user.encode(), user.encode())
        same_password = hmac.compare_digest(given_password.encode(), password.encode())
        return same_user and same_password

    return check


@dataclasses.dataclass
class _Address:
    failures: int = 0
    next_try: float = 0.0
    waiting: int = 0
    turn: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)


class LoginThrottle:
    """ASGI middleware around Gradio's `POST /login`: wrong logins slow down later tries from the same address.

    Args:
        app: the ASGI app (Gradio's FastAPI app).
        first_delay_s: the wait after one wrong login. Defaults to 1 s.
        max_delay_s: the longest wait. Defaults to 30 s.
    """

    def __init__(self, app, first_delay_s: float = FIRST_DELAY_S, max_delay_s: float = MAX_DELAY_S):
        self.app = app
        self.first_delay_s = first_delay_s
        self.max_delay_s = max_delay_s
        self._addresses: collections.OrderedDict[str, _Address] = collections.OrderedDict()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].rstrip("/").endswith("/login"):
            await self.app(scope, receive, send)
            return
        address = self._address(scope)
        if address.waiting >= MAX_WAITING:
            await _refuse(send, max(1.0, address.next_try - time.monotonic()))
            return
        address.waiting += 1
        try:
            async with address.turn:
                await asyncio.sleep(max(0.0, address.next_try - time.monotonic()))
                status = await self._answered(scope, receive, send)
        finally:
            address.waiting -= 1
        if status == 200:
            address.failures, address.next_try = 0, 0.0
        elif status == 400:  # Gradio's "Incorrect credentials"
            address.failures += 1
            delay = min(self.max_delay_s, self.first_delay_s * 2 ** (address.failures - 1))
            address.next_try = time.monotonic() + delay

    def _address(self, scope) -> _Address:
        client = scope.get("client")
        key = client[0] if client else "unknown"
        address = self._addresses.pop(key, None) or _Address()
        self._addresses[key] = address
        while len(self._addresses) > ADDRESSES_KEPT:
            self._addresses.popitem(last=False)
        return address

    async def _answered(self, scope, receive, send) -> int | None:
        """Runs the login; returns the status it answered."""
        answered = {}

        async def watched(message):
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, watched)
        return answered.get("status")


async def _refuse(send, wait_s: float) -> None:
    body = json.dumps({"detail": f"Too many wrong logins from your address: try again in {wait_s:.0f} s."}).encode()
    await send({"type": "http.response.start", "status": 429,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", str(round(wait_s)).encode())]})
    await send({"type": "http.response.body", "body": body})
