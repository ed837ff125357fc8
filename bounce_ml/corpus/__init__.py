"""The labeled corpus: reading, checking and generating variants."""
