"""Identity: API keys and roles, bearer authentication, the CLI's saved credentials, secret keys.

Entry points: `keys`, `auth.require`, `credentials`, `secret_keys`.
"""
