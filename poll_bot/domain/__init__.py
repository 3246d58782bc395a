"""Domain rules as plain Python."""


class InputError(ValueError):
    """What the user typed breaks a rule; the message says what to fix."""
