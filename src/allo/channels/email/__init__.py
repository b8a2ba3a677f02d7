"""Email: the SMTP listener, the IMAP poller, the outbound sender and MIME handling."""
