"""The local stack: LocalStack on the host (or in Docker), MailDev and the mail forwarder."""
