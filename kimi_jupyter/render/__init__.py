"""Renderers: sanitized HTML (UI-free), the live widget view, plain text, the saved bundle."""
