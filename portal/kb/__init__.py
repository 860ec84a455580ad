"""Knowledge base: categories, articles, Turkish-aware search and suggestions."""
