"""Shift calendars (planned busy time, the forward schedule's working time)
and equipment states (what each machine was doing, for availability)."""
