"""API types, validation, defaults, selectors and quantities, shared by every component."""
