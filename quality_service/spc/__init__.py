"""Statistical process control of variable and attribute characteristics."""
