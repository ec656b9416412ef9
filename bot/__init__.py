"""Channels (WeCom, DingTalk, console), the HTTP app, outbound delivery, the command line."""
