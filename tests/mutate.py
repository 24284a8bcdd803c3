"""Mutation testing of the promise-carrying parts (`python3 dev.py mutate [AREA ...]`): runs
mutmut per area of tests/mutation.toml and writes mutation-report/SUMMARY.md.

Each area runs in its own copy of the repository under mutation-report/areas/AREA (mutmut
reads its settings from the project's pyproject.toml, and each area has its own functions
and tests), from a fresh start, so a result never comes from a stale cache. A surviving
mutant listed in tests/mutation-equivalents.md (module, function and the mutation as this
report writes it) is reported as equivalent; any other survivor makes the run exit 1.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "tests" / "mutation.toml"
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.md"
REPORT = ROOT / "mutation-report"
PACKAGES = ["cohear", "comms", "language_packs", "speech", "surveys", "tui", "webcollect"]
SEP = "ǁ"  # mutmut's separator in a method's mangled name

# Lines whose mutations say nothing about a promise: the words of a refusal and log lines.
# mutmut skips every statement that starts on a matching line.
DO_NOT_MUTATE = [r"^\s*raise \w+\(", r"^\s*(log|logger|LOG)\.\w+\("]

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests", "suspicious"}


def mutant_glob(spec: str) -> tuple[str, str]:
    """("cohear.auth:User.require") -> (module, mutmut's glob for that function's mutants)."""
    module, _, function = spec.partition(":")
    if function == "*":
        return module, f"{module}.*"
    if "." in function:
        cls, method = function.split(".", 1)
        return module, f"{module}.x{SEP}{cls}{SEP}{method}__mutmut_*"
    return module, f"{module}.x_{function}__mutmut_*"


def module_path(module: str) -> str:
    return module.replace(".", "/") + ".py"


def copy_repository(target: Path) -> None:
    """The files git knows of (tracked, or new and not ignored), as they are in the work tree."""
    if target.exists():
        shutil.rmtree(target)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file() and not name.startswith("mutation-report/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def mutmut_settings(area: dict) -> str:
    files = sorted({module_path(mutant_glob(spec)[0]) for spec in area["functions"]})
    settings = {
        "source_paths": PACKAGES,
        "only_mutate": files,
        "do_not_mutate_patterns": DO_NOT_MUTATE,
        "also_copy": ["README.md", "SECURITY.md"],
        # -x: the first failing test kills the mutant; a hung mutant fails its test.
        "pytest_add_cli_args": ["-x", "-q", "--timeout=120", "-p", "no:cacheprovider",
                                *area.get("pytest_args", [])],
        "pytest_add_cli_args_test_selection": area["tests"],
        "use_git_change_detection": False,
    }
    lines = ["", "[tool.mutmut]"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def function_sources(mutated_file: Path) -> dict[str, list[str]]:
    """Every function mutmut wrote into a mutated file, by its mangled name, as lines."""
    source = mutated_file.read_text("utf-8")
    lines = source.splitlines()
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name:
            # The whole def, parameters included (mutmut mutates defaults too), with the
            # mangled name that differs between the original and each mutant taken out.
            body = textwrap.dedent("\n".join(lines[node.lineno - 1:node.end_lineno]))
            found[node.name] = re.sub(r"\bx\w*?__mutmut_\w+", "f", body, count=1).splitlines()
    return found


def describe(original: list[str], mutant: list[str]) -> str:
    """A mutation as `before` → `after`, from the lines it changed (stable across runs)."""
    def squash(lines: list[str]) -> str:
        return " ⏎ ".join(re.sub(r"\s+", " ", line).strip() for line in lines).replace("|", "\\|")
    removed, added = [], []
    for line in difflib.ndiff(original, mutant):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return f"`{squash(removed)}` → `{squash(added)}`"


def function_name(mangled: str) -> str:
    name = mangled.split("__mutmut_")[0]
    if name.startswith("x" + SEP):
        return ".".join(name[2:].split(SEP))
    return name.removeprefix("x_")


_PY_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SQL_WORD = re.compile(r"\b(SELECT|UPDATE|INSERT|DELETE|WHERE|FROM|SET|AND|VALUES|CASE|WHEN|JOIN|NULL|"
                       r"RETURNING|ORDER BY|GROUP BY|LIMIT|IS NULL|IN \(|coalesce\(|\w+ = \?)")
SQL_CASE = ("only the letter case of SQL changed, outside its quoted values: SQLite's keywords and "
            "names are case-insensitive")


def sql_case_only(mutation: str) -> bool:
    """The rule tests/mutation-equivalents.md states once rather than per mutant: a mutation
    that changes only the case of an SQL text (mutmut's case mutator), every '...' value in
    it unchanged, is equivalent."""
    before, _, after = mutation.partition("` → `")
    before, after = before.removeprefix("`"), re.sub(r"` \(#\d+\)$", "", after).removesuffix("`")
    if before == after or before.lower() != after.lower():
        return False
    if _PY_STRING.sub('""', before) != _PY_STRING.sub('""', after):
        return False  # something outside a string literal changed
    changed = [(a, b) for a, b in zip(_PY_STRING.findall(before), _PY_STRING.findall(after)) if a != b]
    return bool(changed) and all(_SQL_WORD.search(a) and re.findall(r"'[^']*'", a) == re.findall(r"'[^']*'", b)
                                 for a, b in changed)


ROW_KEY_CASE = ("only the letter case of a key into a database row changed: cohear's rows are "
                "sqlite3.Row, whose keys are case-insensitive")
_ROW_KEY = re.compile(r"""\b(?:row|r)\[(["'])(\w+)\1\]""")


def row_key_case_only(mutation: str) -> bool:
    """The second rule: `row["id"]` to `row["ID"]` (cohear names a sqlite3.Row `row` or `r`)."""
    before, _, after = mutation.partition("` → `")
    before, after = before.removeprefix("`"), re.sub(r"` \(#\d+\)$", "", after).removesuffix("`")
    if before == after or before.lower() != after.lower():
        return False
    return _ROW_KEY.sub("row[]", before) == _ROW_KEY.sub("row[]", after)


def read_equivalents() -> dict[tuple[str, str, str], str]:
    """(module, function, mutation) -> why it changes nothing a promise covers."""
    listed = {}
    if not EQUIVALENTS.exists():
        return listed
    for line in EQUIVALENTS.read_text("utf-8").splitlines():
        if not line.startswith("| ") or line.startswith("| module") or line.startswith("| ---"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4:
            listed[(cells[0], cells[1], cells[2])] = cells[3]
    return listed


def run_area(name: str, area: dict, jobs: int, only: list[str] | None = None) -> tuple[int, int]:
    """Run mutmut over one area (or only the mutants named) from a fresh copy; (mutmut's exit
    status, seconds)."""
    work = REPORT / "areas" / name
    print(f"== {name}: copying the repository to {work.relative_to(ROOT)}", flush=True)
    copy_repository(work)
    with open(work / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(mutmut_settings(area))
    globs = only or [mutant_glob(spec)[1] for spec in area["functions"]]
    started = time.monotonic()
    log = REPORT / f"{name}.log"
    print(f"== {name}: mutmut run (progress in {log.relative_to(ROOT)})", flush=True)
    # mutmut runs the tests in areas/AREA/mutants, so a test's `python -m cohear` (started there) runs
    # the mutants too.
    # The tests' temporary files go under the area's copy, pruned as the run goes: mutmut ends
    # each mutant's pytest without its exit handlers, so pytest never frees the lock on that
    # run's numbered temporary directory nor removes it (about 150 MB a mutant for speech).
    tmp = work / "tmp"
    tmp.mkdir()
    with open(log, "w", encoding="utf-8") as out:
        # Its own process group, so stopping this run (Ctrl+C, a kill) stops mutmut's workers too.
        run = subprocess.Popen([sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *globs],
                               cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "TMPDIR": str(tmp)})
        try:
            while (code := run.poll()) is None:
                prune_temporary(tmp, keep=jobs + 2)
                time.sleep(5)
        except BaseException:
            os.killpg(run.pid, signal.SIGTERM)
            raise
    shutil.rmtree(tmp, ignore_errors=True)
    return code, round(time.monotonic() - started)


def prune_temporary(tmp: Path, keep: int) -> None:
    """Remove pytest's numbered temporary directories under `tmp` but the newest `keep` (those
    of the tests running now: mutmut runs at most `jobs` at once, each numbered after the last)."""
    for user in tmp.glob("pytest-of-*"):
        numbered = sorted((d for d in user.glob("pytest-[0-9]*") if d.is_dir()),
                          key=lambda d: int(d.name.removeprefix("pytest-")))
        for old in numbered[:-keep]:
            shutil.rmtree(old, ignore_errors=True)


def measured_at() -> str:
    """The date and commit a run measured, "+changes" when the work tree differed from it
    (SUMMARY.md reads each area's last run, so areas may have been measured at different
    commits)."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return f"{time.strftime('%Y-%m-%d', time.gmtime())} {commit}{'+changes' if dirty else ''}"


def collect_area(name: str, area: dict, code: int, seconds: int, kept: dict[str, str] | None = None) -> dict:
    """Each mutant of an area's last run: module, function, the mutation as text, status
    (`kept`: statuses from an earlier run for the mutants this run did not check)."""
    work = REPORT / "areas" / name
    log = REPORT / f"{name}.log"
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                             capture_output=True, text=True).stdout
    globs = [mutant_glob(spec)[1] for spec in area["functions"]]
    statuses = {}
    for line in listing.splitlines():
        mutant, sep, status = line.strip().rpartition(": ")
        if sep and any(fnmatch.fnmatchcase(mutant, g) for g in globs):
            statuses[mutant] = status if status != "not checked" else (kept or {}).get(mutant, status)
    if code != 0 or not statuses:
        print(f"mutmut ended with {code}; see {log.relative_to(ROOT)}", file=sys.stderr)
    modules = sorted({mutant_glob(spec)[0] for spec in area["functions"]}, key=len, reverse=True)
    sources: dict[str, dict[str, list[str]]] = {}
    mutants = []
    seen: Counter = Counter()
    for mutant in sorted(statuses, key=lambda m: (m.rsplit("__mutmut_", 1)[0], int(m.rsplit("_", 1)[1]))):
        module = next(m for m in modules if mutant.startswith(m + "."))
        if module not in sources:
            sources[module] = function_sources(work / "mutants" / module_path(module))
        mangled = mutant[len(module) + 1:]
        original = sources[module].get(mangled.rsplit("__mutmut_", 1)[0] + "__mutmut_orig", [])
        mutation = describe(original, sources[module].get(mangled, []))
        function = function_name(mangled)
        seen[(module, function, mutation)] += 1
        if seen[(module, function, mutation)] > 1:  # the same change at another place in the function
            mutation += f" (#{seen[(module, function, mutation)]})"
        mutants.append({"name": mutant, "module": module, "function": function, "mutation": mutation,
                        "status": statuses[mutant]})
    return {"area": name, "seconds": seconds, "exit": code, "mutants": mutants}


def summarise(results: list[dict]) -> int:
    """Write SUMMARY.md from every area's last results; the number of unexplained survivors."""
    equivalents = read_equivalents()
    used = set()
    rows, survivors = {}, []
    for result in results:
        for m in result["mutants"]:
            counts = rows.setdefault(m["module"], Counter())
            key = (m["module"], m["function"], m["mutation"])
            counts["total"] += 1
            if m["status"] in KILLED:
                counts["killed"] += 1
            elif m["status"] in SURVIVED and key in equivalents:
                counts["equivalent"] += 1
                used.add(key)
            elif m["status"] in SURVIVED and (sql_case_only(m["mutation"]) or row_key_case_only(m["mutation"])):
                counts["equivalent"] += 1
                counts["by rule"] += 1
            elif m["status"] in SURVIVED:
                counts["survived"] += 1
                survivors.append(m)
            else:
                counts["not run"] += 1
    lines = ["# Mutation testing: the promise-carrying parts", "",
             "Written by `python3 dev.py mutate`; areas, functions and tests in `tests/mutation.toml`.", "",
             "| area | mutants run | seconds | mutmut exit | measured at |", "| --- | --- | ---: | ---: | --- |"]
    lines += [f"| {r['area']} | {r.get('run', 'all')} | {r['seconds']} | {r['exit']} "
              f"| {r.get('measured', 'not recorded')} |" for r in results]
    lines += ["", "| module | killed | survived | equivalent | not run | total |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for module, c in sorted(rows.items()):
        lines.append(f"| {module} | {c['killed']} | {c['survived']} | {c['equivalent']} | {c['not run']} "
                     f"| {c['total']} |")
    lines += ["", f"Equivalent includes, per module, the mutants two rules cover ({SQL_CASE}; "
              f"{ROW_KEY_CASE}): " + (", ".join(f"{m} {c['by rule']}" for m, c in sorted(rows.items())
                                                if c["by rule"]) or "none") + "."]
    lines += ["", f"## Survivors ({len(survivors)})", "",
              "Kill each with a test that states a promise, or, if it changes nothing a promise covers, "
              "add its row (with the reason) to tests/mutation-equivalents.md.", "",
              "| module | function | mutation | status |", "| --- | --- | --- | --- |"]
    lines += [f"| {m['module']} | {m['function']} | {m['mutation']} | {m['status']} ({m['name']}) |"
              for m in survivors]
    stale = [key for key in equivalents if key not in used and key[0] in rows]
    if stale:
        lines += ["", "## Listed as equivalent but not found surviving (remove or update)", ""]
        lines += [f"- {' | '.join(key)}" for key in stale]
    (REPORT / "SUMMARY.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(survivors)


def main() -> int:
    areas = tomllib.loads(CONFIG.read_text("utf-8"))
    parser = argparse.ArgumentParser(prog="dev.py mutate", description=__doc__)
    parser.add_argument("areas", nargs="*", metavar="AREA", help=f"some of: {', '.join(areas)} (default: all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("COHEAR_MUTATE_JOBS", "2")),
                        help="mutants run at once (default 2, or COHEAR_MUTATE_JOBS)")
    parser.add_argument("--survivors", action="store_true",
                        help="run again only the mutants that survived the area's last run (after "
                             "adding tests; the code they mutate must be unchanged), keeping the "
                             "other results")
    parser.add_argument("--afresh", action="append", default=[], metavar="MODULE",
                        help="with --survivors: run every mutant of MODULE again (its code changed "
                             "since the last run, so the old mutants no longer match it)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: read the areas' last mutmut results again (after editing "
                             "the equivalents, say) and rewrite SUMMARY.md")
    args = parser.parse_args()
    unknown = [a for a in args.areas if a not in areas]
    if unknown:
        parser.error(f"unknown area {unknown}; the areas are {', '.join(areas)}")
    REPORT.mkdir(exist_ok=True)
    for name in args.areas or list(areas):
        last = REPORT / f"{name}.json"
        if args.report_only:
            if not (REPORT / "work" / name / "mutants").exists():
                continue
            before = json.loads(last.read_text("utf-8")) if last.exists() else {}
            code, seconds = before.get("exit", 0), before.get("seconds", 0)
            result = collect_area(name, areas[name], code, seconds,
                                  {m["name"]: m["status"] for m in before.get("mutants", [])})
            result["run"] = before.get("run", "all")
            result["measured"] = before.get("measured", "not recorded")
        elif args.survivors and last.exists():
            before = json.loads(last.read_text("utf-8"))
            equivalents = read_equivalents()
            # Survivors a rule or a listed row already explains keep their result; a module
            # run afresh gets every mutant run again and none of its old results.
            fresh = [m for m in args.afresh if any(spec.startswith(m + ":") for spec in areas[name]["functions"])]
            again = [m["name"] for m in before["mutants"] if m["status"] in SURVIVED
                     and m["module"] not in fresh
                     and not (sql_case_only(m["mutation"]) or row_key_case_only(m["mutation"])
                              or (m["module"], m["function"], m["mutation"]) in equivalents)]
            again += [mutant_glob(spec)[1] for spec in areas[name]["functions"]
                      if mutant_glob(spec)[0] in fresh]
            kept = {m["name"]: m["status"] for m in before["mutants"] if m["module"] not in fresh}
            code, seconds = run_area(name, areas[name], args.jobs, again) if again else (0, 0)
            result = collect_area(name, areas[name], code, seconds, kept)
            result["run"] = "the last run's unexplained survivors" + (
                f", and all of {', '.join(fresh)} afresh" if fresh else "")
            result["measured"] = f"{measured_at()} (survivors; the rest {before.get('measured', 'not recorded')})"
        else:
            stamp = measured_at()
            code, seconds = run_area(name, areas[name], args.jobs)
            result = collect_area(name, areas[name], code, seconds)
            result["measured"] = stamp
        last.write_text(json.dumps(result, indent=1, ensure_ascii=False), "utf-8")
    results = [json.loads((REPORT / f"{n}.json").read_text("utf-8")) for n in areas if (REPORT / f"{n}.json").exists()]
    unexplained = summarise(results)
    print((REPORT / "SUMMARY.md").read_text("utf-8"))
    return 1 if unexplained else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill stops mutmut too
    sys.exit(main())
