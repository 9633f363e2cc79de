"""The gateway's HTTP side: the route, its OpenAI-shaped errors, the Gateway service.

Entry points: `service.Gateway`, `routes.router`.
"""
