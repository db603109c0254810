"""Loads a `smelt export` directory with Hugging Face `datasets`, as a trainer would, and prints
what it saw as JSON.

    python load_export.py EXPORT_DIR

For every config the card lists: rows, column names, and a look inside the first row (the
message roles of `sft`, of `dpo`'s `chosen`), plus the sum of `pass_rate`'s `accepted`.
Offline: nothing is fetched from a hub.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="smelt-hf-")

import datasets  # noqa: E402

out = sys.argv[1]
configs = datasets.get_dataset_config_names(out)
result = {"configs": configs}
for config in configs:
    ds = datasets.load_dataset(out, config, split="train")
    seen = {"rows": len(ds), "columns": ds.column_names}
    if config == "sft":
        seen["roles"] = [m["role"] for m in ds[0]["messages"]]
    elif config == "dpo":
        seen["prompt_roles"] = [m["role"] for m in ds[0]["prompt"]]
        seen["chosen_roles"] = [m["role"] for m in ds[0]["chosen"]]
        seen["rejected_roles"] = [m["role"] for m in ds[0]["rejected"]]
    elif config == "pass_rate":
        seen["accepted_sum"] = sum(ds["accepted"])
        seen["pass_rate_in_unit_interval"] = all(0.0 <= r <= 1.0 for r in ds["pass_rate"])
    result[config] = seen
print(json.dumps(result))
