"""Signing refills in a batch against the real service: choose several, see exactly what will
be approved and what is left out, one confirmation, each approval its own action."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel

from tests.helpers import http_item
from tests.support.refills import http_refill, prescribed, set_chart
from tests.ui.conftest import settle, wait_for
from tests.ui.test_main_window import select_queue


def file_refill(portal, username: str, name: str, strength: str) -> str:  # type: ignore[no-untyped-def]
    """A refill of a medication the patient's chart prescribes (see tests/support/refills)."""
    set_chart(portal.db, username, **prescribed(name, strength))
    return http_refill(portal.url, username, name, strength)


def test_a_clinician_signs_the_refills_that_pass_in_one_go(qtbot, open_desk, portal) -> None:
    passing = [
        file_refill(portal, "patient16", "Amlodipine", "5 mg"),
        file_refill(portal, "patient17", "Amlodipine", "5 mg"),
    ]
    # A statin without a lipid panel on file.
    review = file_refill(portal, "patient18", "Atorvastatin", "20 mg")
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

    item_id = file_refill(portal, "patient20", "Amlodipine", "5 mg")
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
