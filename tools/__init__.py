"""Build-time tools (not used by the service at run time)."""
