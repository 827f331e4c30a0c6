"""Signing refills in a batch against the real service: choose several, see exactly what will
be approved and what is left out, one confirmation, each approval its own action."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel

from portal_api.models import Patient
from tests.helpers import bearer, http_item, patient_by_username
from tests.ui.conftest import settle, wait_for
from tests.ui.test_main_window import select_queue


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


def file_refill(portal, username: str, name: str, strength: str, chart: dict[str, Any]) -> str:  # type: ignore[no-untyped-def]
    import requests

    patient_id = patient_by_username(portal.db, username).id
    with portal.db.write() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        for key, value in chart.items():
            setattr(patient, key, value)
    tokens = requests.post(
        f"{portal.url}/api/v1/patient/auth/login",
        json={"username": username, "password": "demo"},
        timeout=10,
    ).json()
    reply = requests.post(
        f"{portal.url}/api/v1/patient/requests",
        json={
            "kind": "refill",
            "subject": f"Refill: {name} {strength}",
            "body": "Running low",
            "details": {
                "medication": {"name": name, "strength": strength, "form": "tablet", "sig": "1"}
            },
        },
        headers=bearer(tokens),
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["item"]["id"])


def chart_with(name: str, strength: str) -> dict[str, Any]:
    return {
        "medications": [
            {
                "name": name,
                "strength": strength,
                "sig": "Take 1 tablet by mouth once daily",
                "quantity": 90,
                "last_filled_on": days_ago(80),
                "refills": 2,
            }
        ],
        "allergies": [],
        "last_visit_on": datetime.now(UTC).date() - timedelta(days=40),
        "labs": [],
    }


def test_a_clinician_signs_the_refills_that_pass_in_one_go(qtbot, open_desk, portal) -> None:
    passing = [
        file_refill(portal, "patient16", "Amlodipine", "5 mg", chart_with("Amlodipine", "5 mg")),
        file_refill(portal, "patient17", "Amlodipine", "5 mg", chart_with("Amlodipine", "5 mg")),
    ]
    review = file_refill(  # a statin without a lipid panel on file
        portal, "patient18", "Atorvastatin", "20 mg", chart_with("Atorvastatin", "20 mg")
    )
    desk = open_desk("doctor")
    window = desk.window
    desk.services.engine.sync_now()
    select_queue(qtbot, window, "nursing")
    wait_for(qtbot, lambda: all(window.model.row_of(i) >= 0 for i in [*passing, review]))
    selection = window.inbox.table.selectionModel()
    for item_id in [*passing, review]:
        selection.select(
            window.model.index(window.model.row_of(item_id), 0),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    assert sorted(window.inbox.selected_ids()) == sorted([*passing, review])
    window.sign_batch()
    wait_for(qtbot, lambda: window.batch_dialog is not None and window.batch_dialog.isVisible())
    dialog = window.batch_dialog
    assert dialog.approve_button.text() == "Approve 2"
    assert dialog.approve_list.count() == 2
    [left_out] = [dialog.left_out_list.item(n).text() for n in range(dialog.left_out_list.count())]
    assert "Atorvastatin" in left_out and "Lipid panel not on file" in left_out
    if directory := os.environ.get("TRIAGE_SCREENSHOTS_DIR"):
        dialog.grab().save(str(Path(directory) / "batch-sign.png"))
    dialog.approve_button.click()
    for item_id in passing:
        wait_for(qtbot, lambda i=item_id: http_item(portal.url, i)["status"] == "done", timeout=20)
        decision = http_item(portal.url, item_id)["details"]["decision"]
        assert (decision["outcome"], decision["quantity"], decision["refills"]) == (
            "approved",
            90,
            2,
        )
    assert http_item(portal.url, review)["status"] != "done"
    settle(qtbot, window)


def test_a_clinician_approves_with_other_terms(qtbot, open_desk, portal) -> None:
    from tests.ui.test_main_window import open_item

    item_id = file_refill(
        portal, "patient20", "Amlodipine", "5 mg", chart_with("Amlodipine", "5 mg")
    )
    desk = open_desk("doctor")
    window = desk.window
    desk.services.engine.sync_now()
    wait_for(qtbot, lambda: desk.services.cache.queries.item(item_id) is not None)
    open_item(qtbot, window, item_id)
    assert window.detail.item_actions.change.text() == "Approve with changes (no message)"
    dialog = window.detail.item_actions.ask_terms()
    # Prefilled from the active prescription.
    assert (dialog.quantity.value(), dialog.days.value(), dialog.refills.value()) == (90, 90, 2)
    assert dialog.sig.text() == "Take 1 tablet by mouth once daily"
    dialog.quantity.setValue(30)
    dialog.days.setValue(30)
    dialog.refills.setValue(0)
    dialog.sig.setText("Take 1 tablet by mouth every morning")
    dialog.approve_button.click()
    wait_for(qtbot, lambda: http_item(portal.url, item_id)["status"] == "done", timeout=15)
    decision = http_item(portal.url, item_id)["details"]["decision"]
    assert decision["outcome"] == "modified"
    assert (decision["quantity"], decision["days_supply"], decision["refills"]) == (30, 30, 0)
    assert decision["sig"] == "Take 1 tablet by mouth every morning"
