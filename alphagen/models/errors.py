"""The one user-facing error type of model loading."""


class ModelError(Exception):
    """A one-line, user-facing message: what is wrong with the model and how to get it."""
