"""alphagen: AlphaCode-style program synthesis for competitive programming."""

__version__ = "0.1.0"
