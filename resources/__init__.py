"""Plain-file resources (icons, styles, templates, rules), found with importlib.resources."""
