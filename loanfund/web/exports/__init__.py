"""Excel exports made in the background: asking for one, its progress, the download."""
