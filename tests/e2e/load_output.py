"""Loads a smelt output directory the way users do, and prints what each loader saw as JSON.

    python load_output.py OUTPUT_DIR

For every config the dataset card lists: rows through `datasets.load_dataset(dir, config)`,
through polars and through DuckDB (both reading data/<config>/*.parquet), and the rows of
`datasets.load_dataset(dir)` (the default config). Offline: nothing is fetched from a hub.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="smelt-hf-")

import datasets  # noqa: E402
import duckdb  # noqa: E402
import polars as pl  # noqa: E402

out = sys.argv[1]
result = {"configs": {}, "default_rows": None}
db = duckdb.connect()
for config in datasets.get_dataset_config_names(out):
    ds = datasets.load_dataset(out, config, split="train")
    glob = os.path.join(out, "data", config, "*.parquet")
    result["configs"][config] = {
        "datasets": len(ds),
        "polars": pl.scan_parquet(glob).select(pl.len()).collect().item(),
        "duckdb": db.execute(f"select count(*) from read_parquet('{glob}')").fetchone()[0],
        "accepted_values": sorted(set(ds["accepted"])),
        "columns": ds.column_names,
    }
result["default_rows"] = len(datasets.load_dataset(out, split="train"))
print(json.dumps(result))
