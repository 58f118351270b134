"""Vocabulary of demographic attributes and the spellings that map onto it (below every stage)."""
