"""The project's own error type: caught once at the CLI edge and printed as `Kind: message`."""


class GamedayError(Exception):
    """An error a user can act on. The message says what was wrong and what to do next."""

    kind = "Error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\n  → {self.hint}" if self.hint else base


class ConfigError(GamedayError):
    kind = "ConfigError"


class StackError(GamedayError):
    kind = "StackError"


class MissingToolError(GamedayError):
    kind = "MissingTool"


class ImageError(GamedayError):
    kind = "ImageError"
