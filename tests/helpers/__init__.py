"""What many test modules share: real Redis, SMTP and IMAP servers, loops, processes."""
