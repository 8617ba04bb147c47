"""Pure rules of gauges and tools: fitness for use on a day, the calibration
state the timer moves them to, and the next due date. No database, no clock."""
import datetime as dt

from mes_common import errors

HELD = ("out_for_calibration", "quarantined", "retired")   # set by people; only a calibration or a person ends them
CALIBRATION_STATES = ("in_service", "due", "overdue")        # moved by the timer and by uses


def problem(asset, today):
    """Why `asset` may not be used on `today` (a message naming it and its due
    date), or None when it may."""
    name = f"{asset.kind} {asset.asset_number}"
    if asset.status in HELD:
        return f"{name} is {asset.status.replace('_', ' ')}" + (f": {asset.status_reason}" if asset.status_reason else "")
    if asset.next_due_on is not None and asset.next_due_on < today:
        return f"{name} is overdue for calibration since {(asset.next_due_on + dt.timedelta(days=1)).isoformat()} " \
               f"(due {asset.next_due_on.isoformat()})"
    if asset.calibration_interval_uses and asset.uses_since_calibration >= asset.calibration_interval_uses:
        return f"{name} is overdue for calibration: {asset.uses_since_calibration} uses of " \
               f"{asset.calibration_interval_uses} since {asset.last_calibrated_on}"
    return None


def calibration_state(status, next_due_on, warning_days, uses, interval_uses, today):
    """The state the timer records for an asset in service: due within the
    warning window, overdue past its last usable day or its uses; held states
    and retired assets stay as people left them."""
    if status in HELD:
        return status
    if (next_due_on is not None and next_due_on < today) or (interval_uses and uses >= interval_uses):
        return "overdue"
    if next_due_on is not None and next_due_on <= today + dt.timedelta(days=warning_days):
        return "due"
    return "in_service"


def next_due(calibrated_on, interval_days, given=None):
    """The last usable day after a calibration: the one the lab gave, else the interval's."""
    if given is not None:
        if given <= calibrated_on:
            raise errors.RuleViolated(f"next_due_on: not after the calibration ({calibrated_on})",
                                      {"next_due_on": [f"must be after calibrated_on ({calibrated_on})"]})
        return given
    return calibrated_on + dt.timedelta(days=interval_days) if interval_days else None
