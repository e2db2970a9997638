"""No circle among the modules of `shared/src`, by their imports.

Reads every `crate::…` and `super::…` path in the non-test code of
`shared/src` (a `#[cfg(test)] mod tests` block is left out), maps each to
the module it names, and looks for strongly connected components among
the modules at the depth that matters: the crate's top-level modules, and
one level inside `store` and `domain`. Prints each circle with its arrows
and exits 1 if there is one.

    python scripts/check_module_cycles.py [SRC_DIR]   # default: shared/src
"""

import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared", "src")
NESTED = ("store", "domain")


def modules(root: str) -> dict[str, str]:
    found = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel == ["lib"]:
                rel = []
            with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                found["::".join(rel)] = fh.read()
    return found


def without_tests(src: str) -> str:
    cut = re.search(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", src)
    src = src if cut is None else src[: cut.start()]
    return re.sub(r"//.*", "", src)


def level(module: str) -> str:
    parts = module.split("::")
    if parts[0] in NESTED and len(parts) > 1:
        return "::".join(parts[:2])
    return parts[0]


def arrows(found: dict[str, str]) -> set[tuple[str, str]]:
    out = set()
    for module, src in found.items():
        # A file-module of tests only (e.g. `filter/tests.rs`) is test code.
        if module.split("::")[-1] == "tests":
            continue
        parent = module.split("::")[:-1] if module else []
        for m in re.finditer(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)", without_tests(src)):
            base = [] if m.group(1) == "crate" else list(parent)
            path = base + m.group(2).strip(":").split("::")
            target = next(
                ("::".join(path[:k]) for k in range(len(path), 0, -1) if "::".join(path[:k]) in found),
                None,
            )
            if target is None:
                continue
            a, b = level(module), level(target)
            if a and b and a != b:
                out.add((a, b))
    return out


def circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    graph = collections.defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    edges = arrows(modules(sys.argv[1] if len(sys.argv) > 1 else ROOT))
    found = circles(edges)
    for comp in found:
        print("circle: " + ", ".join(comp))
        for a, b in sorted(edges):
            if a in comp and b in comp:
                print(f"    {a} -> {b}")
    if found:
        return 1
    print(f"no circle among shared/src's modules ({len(edges)} arrows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
