"""WeCom (企业微信): self-built app callback, smart robot callback, 微信客服, group robot webhooks."""
