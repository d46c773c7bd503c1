#!/usr/bin/python3
"""Checks the executed notebooks that `./flame notebooks --execute --out DIR` wrote (CI, after the run).

    .ci/check-notebooks.py DIR NOTEBOOK.ipynb...

For every given source notebook NAME.ipynb, DIR/NAME.ipynb must exist, be readable JSON, contain no error output and
contain at least one image output (a display_data or execute_result with an image/* MIME type): every notebook in this
project shows at least one chart, so a notebook without one means a cell silently stopped drawing. The source notebook
itself must hold no outputs and no execution counts (notebooks are committed without outputs). Prints one line per
notebook. Exit status: 0 if all pass, 1 if any fails, 2 on wrong usage. Needs only the standard library.
"""
import json
import os
import sys


def check(path):
    """Returns (problems, images, outputs) for one executed notebook."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except FileNotFoundError:
        return ["no executed copy at " + path], 0, 0
    except (OSError, ValueError) as e:
        return ["unreadable: %s" % e], 0, 0
    outputs = [o for c in nb.get("cells", []) if c.get("cell_type") == "code" for o in c.get("outputs", [])]
    images = sum(1 for o in outputs if any(k.startswith("image/") for k in o.get("data", {})))
    errors = [o for o in outputs if o.get("output_type") == "error"]
    problems = []
    for e in errors:
        problems.append("error output: %s: %s" % (e.get("ename", "?"), str(e.get("evalue", ""))[:200]))
    if images == 0:
        problems.append("no image output")
    return problems, images, len(outputs)


def committed_outputs(path):
    """Problems of a source notebook that was saved with outputs (empty list if it is clean)."""
    try:
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
    except (OSError, ValueError) as e:
        return ["source unreadable: %s" % e]
    code = [c for c in nb.get("cells", []) if c.get("cell_type") == "code"]
    with_outputs = sum(1 for c in code if c.get("outputs"))
    counted = sum(1 for c in code if c.get("execution_count") is not None)
    if with_outputs or counted:
        return ["%s is saved with outputs (%d cells with outputs, %d with execution counts); strip them before "
                "committing" % (path, with_outputs, counted)]
    return []


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out_dir, notebooks = argv[1], argv[2:]
    failed = 0
    for nb in notebooks:
        name = os.path.splitext(os.path.basename(nb))[0]
        problems, images, outputs = check(os.path.join(out_dir, name + ".ipynb"))
        problems += committed_outputs(nb)
        if problems:
            failed += 1
            print("check-notebooks: %s: FAILED: %s" % (name, "; ".join(problems)))
        else:
            print("check-notebooks: %s: ok (%d outputs, %d images)" % (name, outputs, images))
    if failed:
        print("check-notebooks: %d of %d notebook(s) failed the check" % (failed, len(notebooks)))
        return 1
    print("check-notebooks: all %d notebook(s) have image output and no errors" % len(notebooks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
