"""The SOP engine: plain Python, no Flask. A test can drive it with a bare SQLAlchemy session."""
