"""The built-in dashboard page: static HTML, CSS and JavaScript shipped as package data.

Entry point: `assets.find_asset` (a file's bytes, content type and ETag, or None).
"""
