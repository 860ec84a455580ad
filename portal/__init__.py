"""portal: customer self-service portal and help desk."""

__version__ = "0.1.0"
