"""The circle check fails on a circle and passes without one: a throwaway
crate of three modules, `a -> b -> a` and `c -> a`, then with the arrow
back removed.

    python scripts/check_module_cycles_test.py
"""

import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_module_cycles.py")


def run(files: dict[str, str]) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as src:
        for name, text in files.items():
            path = os.path.join(src, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return subprocess.run([sys.executable, CHECK, src], capture_output=True, text=True)


def main() -> int:
    files = {
        "lib.rs": "pub mod a;\npub mod b;\npub mod c;\n",
        "a.rs": "use crate::b::thing;\n",
        "b.rs": "pub fn thing() { super::a::other() }\n",
        "c.rs": "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::c;\n}\n",
    }
    circle = run(files)
    assert circle.returncode == 1, circle.stdout + circle.stderr
    assert "circle: a, b" in circle.stdout and "a -> b" in circle.stdout, circle.stdout
    assert "b -> a" in circle.stdout, circle.stdout
    files["b.rs"] = "pub fn thing() {}\n"
    # An arrow back from test code is not a circle.
    files["b.rs"] += "#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n"
    clean = run(files)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    print("check_module_cycles: fails on a circle (a -> b -> a), passes without it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
