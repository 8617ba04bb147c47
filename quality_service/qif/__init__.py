"""QIF 3.0 (ANSI/DMSC): inspection plans and results in and out."""
