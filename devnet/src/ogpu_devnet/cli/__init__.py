"""Subcommands of ``ogpu-devnet``."""
