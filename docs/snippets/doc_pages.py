"""The programs the doc pages show, as scripts/doc-snippets.sh and scripts/package-check.sh compile them.

The rule (docs/snippets/README.md says it for writers): a page's ```csharp blocks, in page order, are ONE
Program.cs of top-level statements. Each block's `using` lines move to the top of the file (the first of
duplicates kept), as a reader pasting the blocks one after another would move them; everything else stays in
order, so type declarations may only follow the statements (in the last block). Nothing is declared for a
page: it names what it uses, or starts with the line `<!-- page: continues other.md -->` (a path relative
to the page), and then the other page's blocks come first. A block preceded by the line
`<!-- snippet: skip -->` is not part of the program (an excerpt, such as a signature).

Usage: doc_pages.py generate ROOT OUT   one project per page under OUT/pages, OUT/pages.slnx, OUT/pages.json
       doc_pages.py program ROOT PAGE    print the page's program as a reader pastes it (no #line)
"""
import glob
import json
import os
import re
import shutil
import sys

CONTINUES = re.compile(r"<!--\s*page:\s*continues\s+(\S+)\s*-->")
SKIP = "<!-- snippet: skip -->"
USING = re.compile(r"\s*(global\s+)?using\s+(static\s+)?[A-Za-z0-9_.]+(\s*=\s*[A-Za-z0-9_.<>, ]+)?;\s*")
# A table the C# reads or writes (SQL in a string), or locks rows of: the page must create it.
TABLE_USE = re.compile(r"\b(?:FROM|UPDATE|INTO)\s+`?([A-Za-z_][A-Za-z0-9_]*)|AddMySqlRowLock\(\s*\"([A-Za-z_][A-Za-z0-9_]*)\"|\bTable\s*=\s*\"([A-Za-z_][A-Za-z0-9_]*)\"")
TABLE_CREATE = re.compile(r"\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z_][A-Za-z0-9_]*)", re.I)


def pages(root):
    return ["README.md"] + sorted(glob.glob("src/*/README.md", root_dir=root)) \
        + sorted(glob.glob("docs/**/*.md", root_dir=root, recursive=True))


def parse(root, page):
    """The page's fenced blocks: [(language, first line number, lines, skipped)], and the page it continues."""
    lines = open(os.path.join(root, page), encoding="utf-8").read().split("\n")
    blocks, continues, i = [], None, 0
    while i < len(lines):
        stripped = lines[i].strip()
        marker = CONTINUES.fullmatch(stripped)
        if marker:
            continues = os.path.normpath(os.path.join(os.path.dirname(page), marker.group(1)))
        fence = re.fullmatch(r"```(csharp|sql)", stripped)
        if fence:
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            if end == len(lines):
                raise SystemExit(f"doc-snippets: FAILED: {page} line {i + 1}: a ```{fence.group(1)} block has no closing ```")
            prev = next((l.strip() for l in reversed(lines[:i]) if l.strip()), "")
            blocks.append((fence.group(1), i + 2, lines[i + 1:end], prev == SKIP))
            i = end
        i += 1
    return blocks, continues


def chain(root, page, seen=()):
    """The page and the pages it continues, the first one first."""
    if page in seen:
        raise SystemExit(f"doc-snippets: FAILED: {page}: the continues markers go round in a circle ({' -> '.join(seen)})")
    if not os.path.isfile(os.path.join(root, page)):
        raise SystemExit(f"doc-snippets: FAILED: {seen[-1]} continues {page}, which does not exist")
    _, continues = parse(root, page)
    return (chain(root, continues, seen + (page,)) if continues else []) + [page]


def program(root, page, line_directives):
    """The Program.cs text of the page (and the pages it continues)."""
    usings, body = {}, []
    for part in chain(root, page):
        path = os.path.join(root, part)
        for language, first, lines, skipped in parse(root, part)[0]:
            if language != "csharp" or skipped:
                continue
            if line_directives:
                body.append(f'#line {first} "{path}"')
            for n, line in enumerate(lines):
                if USING.fullmatch(line):
                    usings.setdefault(line.strip(), (path, first + n))
                    if line_directives:
                        body.append("")  # keeps the #line mapping of the lines below exact
                else:
                    body.append(line)
    head = []
    for using, (path, line) in usings.items():
        if line_directives:
            head.append(f'#line {line} "{path}"')
        head.append(using)
    if line_directives:
        body.append("#line default")
    while not line_directives and body and not body[0].strip():
        body.pop(0)
    return "\n".join(head + [""] + body) + "\n"


def project_name(page):
    return "DocPage_" + re.sub(r"[^A-Za-z0-9]", "_", page[:-3])


def write(path, text):
    """Writes only a changed file: an unchanged page is not compiled again."""
    if not os.path.isfile(path) or open(path, encoding="utf-8").read() != text:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def generate(root, out):
    problems, summary, entries = [], {"pages": 0, "blocks": 0, "skipped": 0, "continues": 0, "sql": 0}, []
    os.makedirs(os.path.join(out, "pages"), exist_ok=True)
    props = os.path.join(root, "docs", "snippets", "DocPage.props")
    for page in pages(root):
        blocks, continues = parse(root, page)
        csharp = [b for b in blocks if b[0] == "csharp"]
        if not csharp:
            continue
        summary["pages"] += 1
        summary["blocks"] += len(csharp)
        summary["continues"] += 1 if continues else 0
        for language, first, _, skipped in csharp:
            if skipped:
                summary["skipped"] += 1
                print(f"not part of the program (<!-- snippet: skip -->): {page} line {first}")
        parts = chain(root, page)
        if continues:
            print(f"continues: {page} continues {' then '.join(parts[:-1])}")
        created, used = set(), {}
        for part in parts:
            for language, first, lines, skipped in parse(root, part)[0]:
                text = "\n".join(lines)
                if language == "sql":
                    created.update(m.lower() for m in TABLE_CREATE.findall(text))
                    if part == page:
                        summary["sql"] += 1
                elif not skipped and part == page:
                    for n, line in enumerate(lines):
                        for m in TABLE_USE.finditer(line):
                            used.setdefault(next(g for g in m.groups() if g), f"{page}:{first + n}")
        for table, where in used.items():
            if table.lower() not in created:
                problems.append(f"{where}: uses the table {table}, but no ```sql block on the page"
                                f"{' or the pages it continues' if continues else ''} has CREATE TABLE {table}")
        name = project_name(page)
        folder = os.path.join(out, "pages", name)
        os.makedirs(folder, exist_ok=True)
        write(os.path.join(folder, "Program.cs"),
              f"// Generated by scripts/doc-snippets.sh: the C# blocks of {' + '.join(parts)}, in order.\n"
              + program(root, page, True))
        write(os.path.join(folder, name + ".csproj"),
              f'<Project Sdk="Microsoft.NET.Sdk">\n  <!-- {page} as one program -->\n  <Import Project="{props}" />\n</Project>\n')
        sql = ["\n".join(lines) for part in parts for language, _, lines, _ in parse(root, part)[0] if language == "sql"]
        entries.append({"page": page, "project": f"pages/{name}/{name}.csproj", "name": name,
                        "parts": parts, "blocks": [b[1] for b in csharp], "sql": sql})
    for stale in set(os.listdir(os.path.join(out, "pages"))) - {e["name"] for e in entries}:
        shutil.rmtree(os.path.join(out, "pages", stale))
    write(os.path.join(out, "pages.slnx"),
          "<Solution>\n" + "".join(f'  <Project Path="{e["project"]}" />\n' for e in entries) + "</Solution>\n")
    with open(os.path.join(out, "pages.json"), "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=1)
    print(f"doc pages: {summary['pages']} pages with C# ({summary['blocks']} blocks, {summary['sql']} sql blocks); "
          f"markers: {summary['continues']} pages continue another, {summary['skipped']} blocks skipped")
    for p in problems:
        print(f"doc-snippets: FAILED: {p}", file=sys.stderr)
    if summary["pages"] == 0:
        problems.append("no C# block found")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "generate":
        sys.exit(generate(sys.argv[2], sys.argv[3]))
    if len(sys.argv) == 4 and sys.argv[1] == "program":
        sys.stdout.write(program(sys.argv[2], sys.argv[3], False))
        sys.exit(0)
    sys.exit(__doc__)
