"""sohoa: digitisation and e-result service for Vietnamese public-service centres."""

__version__ = "0.1.0"
