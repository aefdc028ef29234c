#!/usr/bin/env python3
"""Build presets/presets.json from the published preset table (TSV).

Usage: scripts/build-presets.py PRESETS.tsv > presets/presets.json

The table has one row per preset image: published name, repository path and
tag without registry host, architecture, resource categories, service type,
dev services and description. The service adds the registry host at start.
"""

import csv
import json
import sys


def split_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], newline="", encoding="utf-8") as table:
        rows = list(csv.DictReader(table, delimiter="\t"))
    presets = [
        {
            "name": row["name"],
            "swr_path": row["swr_path_without_host"],
            "arch": row["arch"],
            "resource_categories": split_list(row["resource_categories"]),
            "service_type": row["service_type"],
            "dev_services": split_list(row["dev_services"]),
            "description": row["description"],
        }
        for row in rows
    ]
    json.dump(presets, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
