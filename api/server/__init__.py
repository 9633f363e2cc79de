"""The HTTP server: the app factory, routes, errors, middleware and fast paths.

Entry point: `app.create_app`.
"""
