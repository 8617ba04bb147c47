"""The console checks a step's values as they are typed (gateway/console/js/rules.js)
by the same rule as the server (instructions/rules.py validate_buy_off): the same
cases through both, the console's run by Node.js (the machine's; `make test`
installs it as root when missing)."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mes_common import errors
from work_order_service.instructions import rules

pytestmark = pytest.mark.fast
CONSOLE = Path(__file__).resolve().parents[2] / "gateway" / "console"
STEP = {"fields": [{"name": "torque", "type": "number", "required": True, "unit": "N·m", "min": 8, "max": 12},
                   {"name": "ok", "type": "boolean", "required": True},
                   {"name": "finish", "type": "choice", "required": False, "choices": ["matt", "gloss"]},
                   {"name": "remark", "type": "text", "required": False}]}
CASES = [{"torque": 10, "ok": True}, {"torque": 7.5, "ok": True}, {"torque": 12.5, "ok": False}, {"ok": True},
         {"torque": 10}, {"torque": "ten", "ok": True}, {"torque": 9, "ok": True, "finish": "satin"},
         {"torque": 9, "ok": True, "remark": "   "}, {"torque": 8, "ok": True, "finish": "gloss", "remark": "x"},
         {"torque": 9, "ok": True, "remark": "y" * 2001}, {"torque": 8.25, "ok": True}, {"torque": True, "ok": True}]
SCRIPT = """
import {readFileSync} from "node:fs";
const root = process.argv[1];
const {useCatalogue} = await import(`${root}/js/i18n.js`);
const {validateBuyOff} = await import(`${root}/js/rules.js`);
useCatalogue(JSON.parse(readFileSync(`${root}/i18n/en.json`, "utf8")));
const {step, cases} = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map((values) => validateBuyOff(step, values).problems)));
"""


def server(values):
    try:
        rules.validate_buy_off(STEP, values)
        return {}
    except errors.ValidationFailed as exc:
        return {name: messages[0] for name, messages in exc.details.items()}


def test_the_consoles_buy_off_rules_are_the_servers():
    node = shutil.which("node") or pytest.fail("Node.js is needed to run the console's rules: apt-get install nodejs")
    ran = subprocess.run([node, "--input-type=module", "-e", SCRIPT, str(CONSOLE)], capture_output=True, text=True,
                         input=json.dumps({"step": STEP, "cases": CASES}), timeout=60)
    assert ran.returncode == 0, ran.stderr
    console = json.loads(ran.stdout)
    assert [server(values) for values in CASES] == console
    assert sum(1 for problems in console if problems) >= 7   # the cases do find problems
