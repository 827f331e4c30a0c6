"""The hosted portal API: where patients' portal requests land and staff desktops sync."""

__version__ = "0.1.0"
API_PREFIX = "/api/v1"
