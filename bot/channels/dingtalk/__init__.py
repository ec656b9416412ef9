"""DingTalk (钉钉): enterprise robot callbacks (HTTP or Stream mode), event subscriptions, robot APIs."""
