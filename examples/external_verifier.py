#!/usr/bin/env python3
"""smelt external verifier, protocol 1: accepts when the last '####' / 'Answer:' line equals the reference."""
import json, re, sys

def norm(s):
    s = re.sub(r"[\s,$]", "", s).rstrip(".").lower()
    try: return repr(float(s))  # 72.50 == 72.5
    except ValueError: return s

def judge(s):
    if s.get("reference") is None: return {"accepted": False, "reason": "missing_ground_truth"}
    found = re.findall(r"(?:####|Answer:)[ \t]*([^\n]*)", s.get("completion") or "")
    if not found: return {"accepted": False, "reason": "no_answer", "detail": "no '####' or 'Answer:' line"}
    got, want = norm(found[-1]), norm(s["reference"])
    return {"accepted": True, "detail": got} if got == want else {"accepted": False, "reason": "wrong_answer", "detail": f"{got} != {want}"}

for n, line in enumerate(sys.stdin):  # the first line is the handshake; EOF ends the loop
    msg = json.loads(line)
    reply = {"protocol": 1, "name": "final_answer", "version": "1"} if n == 0 else {"id": msg["id"], **judge(msg["sample"])}
    print(json.dumps(reply), flush=True)
