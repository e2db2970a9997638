#!/usr/bin/env python3
"""Lays out a SAM build directory from binaries that are already built.

    python scripts/sam_local_template.py --bin-dir target/debug --out target/sam-local

`sam local invoke` and `sam local start-api` run whatever a built template
points at: `<out>/template.yaml` is template.yaml with each function's
`CodeUri` set to `<out>/<LogicalId>/`, holding `bootstrap` (the function's
binary from --bin-dir, hard-linked when possible), and its `BuildMethod`
metadata dropped — the layout `sam build` itself writes under .aws-sam/build,
without compiling anything. The functions are those of routes.toml (read by
scripts/routes.py); each one's resource is its logical id there and must
build that very binary (`BuildProperties: Binary:`).

    python scripts/sam_local_template.py --built-template .aws-sam/build/template.yaml

only applies the local-run adjustment below to a template `sam build` wrote.

The one adjustment: SAM passes a function only the environment variables its
template declares (`--env-vars` cannot add others), so the template gets
`AWS_ENDPOINT_URL_DYNAMODB` (empty) in `Globals`, which an `--env-vars` file can
then point at a local DynamoDB-compatible server. The deployed template is not
touched.

Needs aws-sam-cli in the same Python (its YAML reader keeps `!Ref` and the
other CloudFormation tags as they are).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from routes import logical_id, routes
from samcli.yamlhelper import yaml_dump, yaml_parse

ROOT = Path(__file__).resolve().parent.parent
LOCAL_ONLY_VARIABLES = {"AWS_ENDPOINT_URL_DYNAMODB": ""}


def add_local_variables(template: dict) -> None:
    function_globals = template.setdefault("Globals", {}).setdefault("Function", {})
    variables = function_globals.setdefault("Environment", {}).setdefault("Variables", {})
    for name, value in LOCAL_ONLY_VARIABLES.items():
        variables.setdefault(name, value)


def link_or_copy(source: Path, target: Path) -> None:
    if target.exists() or target.is_symlink():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def lay_out(template_path: Path, bin_dir: Path, out: Path) -> list[str]:
    template = yaml_parse(template_path.read_text())
    resources = template.get("Resources", {})
    wanted = {logical_id(r["function"]): r["function"] for r in routes()}
    problems = []
    for rid, resource in resources.items():
        if resource.get("Type") == "AWS::Serverless::Function" and rid not in wanted:
            problems.append(f"{rid} is in {template_path.name} but no route of routes.toml names it")
    for rid, function in wanted.items():
        resource = resources.get(rid)
        if resource is None or resource.get("Type") != "AWS::Serverless::Function":
            problems.append(f"routes.toml function {function}: no AWS::Serverless::Function {rid}")
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if binary != function:
            problems.append(f"{rid} builds binary {binary!r}, routes.toml says {function!r}")
        if not (bin_dir / function).is_file():
            problems.append(f"no binary {bin_dir / function} (build it first)")
    if problems:
        sys.exit("sam_local_template: " + "\n  ".join(["cannot lay out the build:"] + problems))

    out.mkdir(parents=True, exist_ok=True)
    for rid, function in wanted.items():
        code = out / rid
        code.mkdir(exist_ok=True)
        link_or_copy(bin_dir / function, code / "bootstrap")
        resource = resources[rid]
        resource.pop("Metadata", None)
        resource["Properties"]["CodeUri"] = rid
    add_local_variables(template)
    (out / "template.yaml").write_text(yaml_dump(template))
    return list(wanted)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--bin-dir", type=Path, help="folder with one binary per function (e.g. target/debug)")
    ap.add_argument("--out", type=Path, help="build directory to write (template.yaml and one folder per function)")
    ap.add_argument("--built-template", type=Path, help="a template sam build wrote: only add the local variables")
    args = ap.parse_args()
    if args.built_template:
        template = yaml_parse(args.built_template.read_text())
        add_local_variables(template)
        args.built_template.write_text(yaml_dump(template))
        return 0
    if not (args.bin_dir and args.out):
        ap.error("--bin-dir and --out are required (or --built-template)")
    ids = lay_out(args.template, args.bin_dir, args.out)
    print(f"{args.out / 'template.yaml'}: {len(ids)} functions ({', '.join(ids)}) from {args.bin_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
