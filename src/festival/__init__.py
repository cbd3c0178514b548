"""The festival package: the `festival` command and the local stack (`festival-local`)."""
