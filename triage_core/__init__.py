"""The domain core: every rule the portal service and the desktop must agree on.

Pure Python (no Qt, no HTTP, no database): the vocabulary and its words for staff, typed
actions, the item state machine, permissions with reasons, the business calendar and response
clocks, and the triage rules. The service applies actions with it; the desktop folds pending
actions, enables buttons and computes clocks with the same code.
"""
