"""How long work reports its progress to whoever shows it (a page's bar, the CLI's lines)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int | None], None]  # (done so far, total or None when not known)
StepProgress = Callable[[str, float], None]  # (what is happening now, share done 0..1)
