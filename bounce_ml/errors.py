"""The one exception type for mistakes a user can fix (bad file, bad field, bad flag)."""


class BounceMLError(Exception):
    """A problem with the user's input or data files, explained in one line.

    The CLI prints the message on standard error and exits non-zero instead of
    showing a traceback; API callers can catch it.
    """
