"""The HTTP gateway of the MES."""
import mes_common  # noqa: F401  (before eventlet: quiets its import-time notice)
