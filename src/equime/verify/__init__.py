"""Verify: measure what every video really expresses (AUs read back from X), and when."""
