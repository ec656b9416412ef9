"""Byte limits of one message, per messenger and message type (UTF-8 bytes of the content field).

WeCom (企业微信) documents them per API: text 2048 bytes and markdown 4096 bytes for the app message
API and the group robot webhook, text 2048 bytes for 微信客服 ``kf/send_msg``, and 20480 bytes for a
smart robot's stream reply. DingTalk publishes no byte figure for robot text/markdown; its own
connector for chat bots chunks replies at 2,000 characters, so we split at 6,000 bytes (2,000 Chinese
characters of 3 bytes), which stays under that for any text.
"""

WECOM_TEXT_BYTES = 2048
WECOM_MARKDOWN_BYTES = 4096
WECOM_KF_TEXT_BYTES = 2048
WECOM_ROBOT_STREAM_BYTES = 20480
DINGTALK_TEXT_BYTES = 6000
DINGTALK_MARKDOWN_BYTES = 6000
