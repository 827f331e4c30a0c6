"""The hosted portal API: where patients' portal requests land and staff desktops sync."""

from triage_core.version import __version__

__all__ = ["API_PREFIX", "__version__"]
API_PREFIX = "/api/v1"
