"""HTTP surface of promptlane: app factory, routes, auth, errors, settings, DB wiring, CLI, client.

Entry points: `api.server.app.create_app` (ASGI), `api.cli.app` (the `promptlane` command),
`api.client.Client` (the Python client, importable without the server's dependencies).
"""
