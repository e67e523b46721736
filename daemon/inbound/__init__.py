"""Replies in: the routes raw mail arrives by (SMTP/LMTP, IMAP, webhooks) and the intake."""
