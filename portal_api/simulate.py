"""The patient simulator: demo patients file requests and answer staff, at a steady rate.

`portal-api simulate --url URL --rate 6/min [--duration 10m]`. Used by the desktop demo so
requests arrive live; also a light, bounded load for trying a deployment. Loopback or a server
you run only.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from .seed import DEMO_PASSWORD, data

log = logging.getLogger(__name__)

_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute|h|hour)\s*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")
_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
}


class SimulatorError(RuntimeError):
    """The simulator cannot run (bad arguments, server unreachable, no demo patients)."""


def parse_rate(text: str) -> float:
    """Requests per second from '6/min', '0.5/s' or '30/hour'."""
    match = _RATE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise SimulatorError(f"rate '{text}' is not like 6/min, 1/s or 30/hour")
    return float(match.group(1)) / _UNIT_SECONDS[match.group(2)]


def parse_duration(text: str | None) -> float | None:
    if text is None:
        return None
    match = _DURATION.match(text)
    if not match:
        raise SimulatorError(f"duration '{text}' is not like 90s, 10m or 2h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2) or "s"]


def compose_request(
    rng: random.Random, medications: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A realistic new request body for the patient endpoints (sometimes an urgent one)."""
    kind = rng.choices(("refill", "appointment", "message"), weights=(35, 25, 40))[0]
    if kind == "refill":
        if medications:
            med = rng.choice(medications)
            medication = {k: med[k] for k in ("name", "strength", "form", "sig")}
        else:
            name, strength, form, sig, _controlled, _qty = rng.choice(data.MEDICATIONS)
            medication = {"name": name, "strength": strength, "form": form, "sig": sig}
        return {
            "kind": "refill",
            "subject": f"Refill: {medication['name']} {medication['strength']}",
            "body": rng.choice(data.REFILL_NOTES),
            "details": {
                "medication": medication,
                "pharmacy": rng.choice(data.PHARMACIES),
                "quantity_requested": rng.choice((30, 60, 90)),
            },
        }
    if kind == "appointment":
        change = rng.choices(("new", "reschedule", "cancel"), weights=(50, 35, 15))[0]
        reason = rng.choice(data.APPOINTMENT_REASONS[change])
        preferred = (
            rng.sample(data.PREFERRED_TIMES, k=rng.randint(1, 2)) if change != "cancel" else []
        )
        return {
            "kind": "appointment",
            "subject": {
                "new": "New appointment request",
                "reschedule": "Reschedule my appointment",
                "cancel": "Cancel my appointment",
            }[change],
            "body": reason
            + ("." if not preferred else ". Best times: " + ", ".join(preferred).lower() + "."),
            "details": {"change": change, "preferred_times": preferred, "reason": reason},
        }
    if rng.random() < 0.1:
        subject, body = rng.choice(data.URGENT_MESSAGES)
        category = "clinical"
    else:
        category = rng.choices(
            ("clinical", "billing", "records", "other"), weights=(55, 15, 18, 12)
        )[0]
        subject, body = rng.choice(data.MESSAGES[category])
    med_name = medications[0]["name"] if medications else "my medication"
    return {
        "kind": "message",
        "subject": subject,
        "body": body.replace("{med}", med_name),
        "details": {"category": category},
    }


PATIENT_REPLIES = (
    "Thank you! Tuesday morning works for me.",
    "Yes, please use the CVS on Main Street.",
    "My readings this week: 138/88, 142/90, 135/85.",
    "I can come in Thursday after 2 pm.",
    "Thanks, that answers my question.",
)


@dataclass
class Simulator:
    base_url: str
    rate_per_second: float
    duration: float | None = None
    patients: int = 50
    rng: random.Random = field(default_factory=random.Random)
    timeout: float = 10.0
    stop_event: threading.Event = field(default_factory=threading.Event)
    sent: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}
        # Patients at the portal's sending limit (429), until when: others send meanwhile.
        self.resting: dict[str, float] = {}
        self.base_url = self.base_url.rstrip("/")

    def _pick(self) -> str | None:
        now = time.monotonic()
        self.resting = {name: until for name, until in self.resting.items() if until > now}
        if len(self.resting) >= self.patients:
            return None
        while True:
            username = f"patient{self.rng.randint(1, self.patients)}"
            if username not in self.resting:
                return username

    def _rest(self, username: str, reply: requests.Response) -> str:
        try:
            seconds = max(1.0, float(reply.headers.get("Retry-After", "60")))
        except ValueError:
            seconds = 60.0
        self.resting[username] = time.monotonic() + seconds
        return f"{username} reached the portal's sending limit; resting {seconds:g} s"

    def _login(self, username: str) -> str:
        if username in self.tokens:
            return self.tokens[username]
        reply = self.http.post(
            f"{self.base_url}/api/v1/patient/auth/login",
            json={"username": username, "password": DEMO_PASSWORD},
            timeout=self.timeout,
        )
        if reply.status_code != 200:
            raise SimulatorError(
                f"could not sign in as demo patient {username} ({reply.status_code}); "
                "is the server seeded with --seed demo?"
            )
        token = str(reply.json()["access_token"])
        self.tokens[username] = token
        return token

    def _call(self, username: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self._login(username)}"}
            reply = self.http.request(
                method,
                f"{self.base_url}/api/v1{path}",
                headers=headers,
                timeout=self.timeout,
                **kwargs,
            )
            if reply.status_code != 401:
                return reply
            self.tokens.pop(username, None)  # expired: sign in again once
        return reply

    def step(self) -> str:
        """One patient action: answer a request waiting on them, follow one up, or file a new
        one (some of them red flags)."""
        username = self._pick()
        if username is None:
            return "every simulated patient is at the sending limit; waiting"
        mine = self._call(username, "GET", "/patient/requests")
        mine.raise_for_status()
        waiting = [i for i in mine.json()["items"] if i["status"] == "waiting_patient"]
        if waiting and self.rng.random() < 0.7:
            item = self.rng.choice(waiting)
            reply = self._call(
                username,
                "POST",
                f"/patient/requests/{item['id']}/messages",
                json={"body": self.rng.choice(PATIENT_REPLIES)},
            )
            if reply.status_code == 429:
                return self._rest(username, reply)
            reply.raise_for_status()
            return f"{username} replied on {item['id']}"
        pending = [i for i in mine.json()["items"] if i["status"] in ("new", "open")]
        if pending and self.rng.random() < 0.15:
            # A follow-up, now and then with a red flag (the service screens every message).
            item = self.rng.choice(pending)
            text = (
                self.rng.choice(data.RED_FLAG_FOLLOW_UPS)
                if self.rng.random() < 0.3
                else self.rng.choice(data.FOLLOW_UPS)
            )
            reply = self._call(
                username, "POST", f"/patient/requests/{item['id']}/messages", json={"body": text}
            )
            if reply.status_code == 429:
                return self._rest(username, reply)
            reply.raise_for_status()
            flagged = " (red flag)" if reply.json().get("safety_message") else ""
            return f"{username} followed up on {item['id']}{flagged}"
        reply = self._call(username, "POST", "/patient/requests", json=compose_request(self.rng))
        if reply.status_code == 429:
            return self._rest(username, reply)
        reply.raise_for_status()
        created = reply.json()["item"]
        return f"{username} filed a {created['kind']} request {created['id']}"

    def run(self) -> int:
        started = time.monotonic()
        interval = 1.0 / self.rate_per_second
        next_at = started
        while not self.stop_event.is_set():
            if self.duration is not None and time.monotonic() - started >= self.duration:
                break
            try:
                log.info(self.step())
                self.sent += 1
            except (requests.RequestException, SimulatorError, ValueError, KeyError) as exc:
                self.failed += 1
                log.warning("simulated patient action failed: %s", type(exc).__name__)
                if isinstance(exc, SimulatorError) and self.sent == 0:
                    raise
            # Poisson arrivals around the asked rate, as real patients do not queue politely.
            next_at += self.rng.expovariate(1.0 / interval)
            self.stop_event.wait(max(0.0, next_at - time.monotonic()))
        return 0

    def stop(self) -> None:
        self.stop_event.set()


def run_from_cli(args: argparse.Namespace) -> int:
    sim = Simulator(
        base_url=args.url,
        rate_per_second=parse_rate(args.rate),
        duration=parse_duration(args.duration),
        patients=args.patients,
        rng=random.Random(args.random_seed),
    )
    try:
        requests.get(f"{sim.base_url}/healthz", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise SimulatorError(
            f"the portal API at {args.url} does not answer ({type(exc).__name__})"
        ) from None
    sim.run()
    print(f"simulated {sim.sent} patient actions ({sim.failed} failed)")
    return 0 if sim.sent or not sim.failed else 1
