"""The Triage Desk desktop application shell (PySide6): entry point, wiring, workers."""
