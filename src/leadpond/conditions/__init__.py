"""The one condition language: AST, YAML/JSON parser, Python evaluator and SQL compiler."""
