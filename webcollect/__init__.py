"""The field-capture page at /collect: a phone-browser page for community leaders to
run a survey and upload voice answers over a poor connection."""
