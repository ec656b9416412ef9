"""Service functions: every read and write takes a session and an Actor and checks permissions."""
