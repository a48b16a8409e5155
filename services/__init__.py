"""mlgameday: GameDays for ML systems (import package for the folder services/)."""

__version__ = "0.1.0"
