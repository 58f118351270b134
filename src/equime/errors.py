"""User-facing errors: one line that names the file and the problem, never a traceback."""


class EquimeError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with status 2."""


class InputRejected(EquimeError):
    """One input (a photo, a row) cannot be used; the run records it in rejected.csv and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
