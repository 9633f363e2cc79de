"""HTTP surface of promptlane: app factory, routes, auth, errors, settings, DB wiring, the CLI.

Entry points: `api.server.app.create_app` (ASGI), `api.cli.app` (the `promptlane` command, on
the client package `promptlane_client`, which applications install alone: clients/python).
"""
