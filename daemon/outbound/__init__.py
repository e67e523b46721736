"""Emails out: firing due steps, composing and sending them once, and the coach's emails."""
