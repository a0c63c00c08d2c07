"""threadpoolctl integration: ``threadpool_limits`` sees and limits the engine's threads."""

from __future__ import annotations

from typing import Any


def register() -> bool:
    """Register our controller with threadpoolctl if it is installed; True when registered."""
    try:
        import threadpoolctl
    except ImportError:
        return False
    if not hasattr(threadpoolctl, "register"):  # threadpoolctl < 3.5
        return False

    from . import __version__
    from ._threads import get_num_threads, set_num_threads

    class SpectrogramsController(threadpoolctl.LibController):
        """The engine's thread pool, as threadpoolctl sees it."""

        user_api = "spectrograms"
        internal_api = "spectrograms"
        filename_prefixes = ("_core",)
        check_symbols = ("spectrograms_threadpool_marker",)

        def get_num_threads(self) -> int:
            return get_num_threads()

        def set_num_threads(self, num_threads: Any) -> None:
            set_num_threads(max(1, int(num_threads)))

        def get_version(self) -> str:
            return __version__

        def set_additional_attributes(self) -> None:
            pass

    threadpoolctl.register(SpectrogramsController)
    return True
