"""The web pages under /app: server-rendered Jinja2 templates with a little vanilla JS (api/static)."""
