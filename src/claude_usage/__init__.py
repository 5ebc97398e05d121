"""claude-usage: tokens and USD cost of Claude Code use, from its JSONL transcripts."""

__version__ = "0.1.0"
