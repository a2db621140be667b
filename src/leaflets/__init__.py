"""leaflets: printable patient leaflets and consent-discussion sheets from sourced content."""

__version__ = "0.1.0"
