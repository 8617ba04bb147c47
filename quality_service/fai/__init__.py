"""First Article Inspection reports to AS9102 Rev C (forms 1, 2 and 3)."""
