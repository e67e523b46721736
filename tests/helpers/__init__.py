"""What many test modules share: real servers (Redis, SMTP, IMAP), the test firm, the loop."""
