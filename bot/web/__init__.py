"""The web console: try the bot in a browser as any demo user, in any chat, without a messenger."""
