"""cohear's Textual review app (`cohear tui`)."""
