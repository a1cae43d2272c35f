"""Install, update and roll back face-database releases and models."""
