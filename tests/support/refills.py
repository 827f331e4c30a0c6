"""Refill requests for charts made to measure: the tests and bench/refill_signing.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import select

from portal_api.db import Database
from portal_api.models import Patient


def prescribed(name: str, strength: str, *, last_filled_days: int = 80) -> dict[str, Any]:
    """A chart with one once-daily prescription (90 tablets, 2 refills) filled
    `last_filled_days` ago, a visit 40 days ago, no allergies, no labs."""
    today = datetime.now(UTC).date()
    return {
        "medications": [
            {
                "name": name,
                "strength": strength,
                "sig": "Take 1 tablet by mouth once daily",
                "quantity": 90,
                "last_filled_on": (today - timedelta(days=last_filled_days)).isoformat(),
                "refills": 2,
            }
        ],
        "allergies": [],
        "last_visit_on": today - timedelta(days=40),
        "labs": [],
    }


def set_chart(db: Database, username: str, **chart: Any) -> None:
    """Give a seeded patient these chart facts."""
    with db.write() as session:
        patient = session.scalars(select(Patient).where(Patient.username == username)).one()
        for key, value in chart.items():
            setattr(patient, key, value)


def http_refill(base_url: str, username: str, name: str, strength: str) -> str:
    """The patient asks for a refill through the portal API; the new item's id."""
    tokens = requests.post(
        f"{base_url}/api/v1/patient/auth/login",
        json={"username": username, "password": "demo"},
        timeout=10,
    ).json()
    reply = requests.post(
        f"{base_url}/api/v1/patient/requests",
        json={
            "kind": "refill",
            "subject": f"Refill: {name} {strength}",
            "body": "Running low",
            "details": {
                "medication": {"name": name, "strength": strength, "form": "tablet", "sig": "1"}
            },
        },
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["item"]["id"])
