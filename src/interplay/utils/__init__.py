"""Utilities shared by both families (errors, validation, atomic file writes, config helpers)."""
