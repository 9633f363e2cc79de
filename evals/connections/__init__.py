"""Provider connections: where model calls go and with which key; admins manage them.

Entry points: `service` (create, update, delete, list; secrets sealed by `crypto.SecretBox`),
`resolver.ConnectionResolver` (what calls use, cached briefly) and `resolver.route`.
"""
