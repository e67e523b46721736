"""The embedded demo: a scripted week of a small firm, its local SMTP sink and its firm file."""
