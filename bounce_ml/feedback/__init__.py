"""The feedback loop: stored corrections, the review queue, importing labeled sheets."""
