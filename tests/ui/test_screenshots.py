"""The demo practice in each role, as staff see it. Set TRIAGE_SCREENSHOTS_DIR to keep the
pictures (docs/screenshots/ holds the ones linked from the README)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

from desktop.app import DesktopApp
from desktop.demo import DemoPortal
from tests.ui.conftest import settle, wait_for
from ui.widgets import PlainLabel

ROLES = (("frontdesk", "front_desk"), ("nurse", "nursing"), ("doctor", "clinician"))


@pytest.fixture(scope="module")
def demo_portal():  # type: ignore[no-untyped-def]
    demo = DemoPortal(seed=1)
    demo.start(simulate=False)
    yield demo
    demo.stop()


def _keep(image_path: Path, name: str) -> None:
    target = os.environ.get("TRIAGE_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        image_path.replace(Path(target) / name)


@contextmanager
def demo_desk(qtbot, qapp, demo_portal, tmp_path, username, on_dialog=None):  # type: ignore[no-untyped-def]
    """Sign in to the demo practice through the role picker; yield the app, then close it."""
    app = DesktopApp(
        qapp,
        demo=None,
        data_dir=tmp_path / "data",
        settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        credentials_backend=demo_portal.keyring,
    )
    app.demo = demo_portal
    app.show_sign_in()
    qtbot.addWidget(app.dialog)
    if on_dialog is not None:
        on_dialog(app.dialog)
    app.dialog._demo(username)
    wait_for(qtbot, lambda: app.window is not None, timeout=20)
    wait_for(qtbot, lambda: app.services.engine.status.cycles >= 1, timeout=20)
    try:
        yield app
    finally:
        app.demo = None  # the module fixture stops it
        app.shutdown()


@pytest.mark.parametrize(("username", "queue"), ROLES)
def test_main_window_in_each_role(qtbot, qapp, demo_portal, tmp_path, username, queue) -> None:
    def sign_in_picture(dialog) -> None:  # type: ignore[no-untyped-def]
        if username == "frontdesk":
            shot = tmp_path / "sign-in.png"
            dialog.resize(460, 240)
            dialog.grab().save(str(shot))
            _keep(shot, "sign-in-demo.png")

    with demo_desk(qtbot, qapp, demo_portal, tmp_path, username, sign_in_picture) as app:
        window = app.window
        window.resize(1500, 900)
        window.queues.select(queue)
        settle(qtbot, window)
        window.inbox.step(1)
        wait_for(qtbot, lambda: window.detail.item is not None)

        def thread_painted() -> bool:
            labels = window.detail.thread_box.findChildren(PlainLabel)
            return bool(labels) and all(
                label.isVisible() and label.height() > 10 for label in labels
            )

        wait_for(qtbot, thread_painted)
        path = tmp_path / f"{username}.png"
        assert window.grab().save(str(path))
        image = QImage(str(path))
        assert image.width() >= 1400 and image.height() >= 800
        assert window.model.rowCount() > 0
        _keep(path, f"main-window-{queue.replace('_', '-')}.png")


def test_sla_report_and_policy_editor(qtbot, qapp, demo_portal, tmp_path) -> None:
    with demo_desk(qtbot, qapp, demo_portal, tmp_path, "admin") as app:
        window = app.window
        report = window.open_sla_report()
        qtbot.addWidget(report)
        report.grouping.setCurrentIndex(report.grouping.findData("queue"))
        report.run()
        wait_for(qtbot, lambda: report.report is not None, timeout=30)
        wait_for(qtbot, lambda: len(report.chart.axes()) == 2)
        report.resize(1000, 760)
        qapp.processEvents()  # let the chart lay its axes out before the picture
        path = tmp_path / "report.png"
        assert report.grab().save(str(path))
        assert report.table.rowCount() >= 2
        _keep(path, "sla-report.png")
        editor = window.open_policy_editor()
        qtbot.addWidget(editor)
        editor.resize(760, 900)
        path = tmp_path / "policy.png"
        assert editor.grab().save(str(path))
        _keep(path, "policy-editor.png")
        editor.tabs.setCurrentIndex(1)
        path = tmp_path / "policy-urgent.png"
        assert editor.grab().save(str(path))
        _keep(path, "policy-editor-urgent.png")


def test_a_red_flag_item_as_the_nurse_sees_it(qtbot, qapp, demo_portal, tmp_path) -> None:
    from ui.red_flags import FlaggedMessage

    with demo_desk(qtbot, qapp, demo_portal, tmp_path, "nurse") as app:
        window = app.window
        window.resize(1500, 900)
        window.queues.select("nursing")
        settle(qtbot, window)
        flagged = [
            row[0] for row in app.services.cache.queries.unclaimed_urgent() if "red_flags" in row[2]
        ]
        assert flagged, "the demo has red-flag items"
        window.inbox.select_id(flagged[0])
        wait_for(qtbot, lambda: window.detail.item is not None)
        wait_for(qtbot, lambda: window.detail.red_flags.isVisible())
        wait_for(
            qtbot,
            lambda: any(
                m.isVisible() and m.height() > 20
                for m in window.detail.thread_view.findChildren(FlaggedMessage)
            ),
        )
        assert window.detail.red_flags.text.text().startswith("Urgent: \u201c")
        # Announced once the sync's burst of pages is over.
        wait_for(qtbot, lambda: any("urgent" in n[0].lower() for n in window.shown_notices))
        path = tmp_path / "red-flag.png"
        assert window.grab().save(str(path))
        _keep(path, "red-flag-item.png")
