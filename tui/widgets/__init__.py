"""Widgets of the review app, grouped by the area of the screen they belong to."""
