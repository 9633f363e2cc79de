"""CLI sub-commands, one module per concern; `api.cli` assembles them."""
