"""festival-lineup's kit: the `festival` command and the local stack (`festival-local`)."""
