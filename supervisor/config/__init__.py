"""Configuration: the option tables, their parsers and defaults, check-config, start --help."""
