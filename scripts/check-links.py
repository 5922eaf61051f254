#!/usr/bin/env python3
"""Checks every relative link of the repository's Markdown: README.md, CHANGELOG.md, src/*/README.md, docs/**/*.md,
benchmarks/**/*.md and k6-tests/**/*.md. A link to a file must name a file or folder that exists; a link with
#anchor must name a heading of that page (GitHub's slugs: lower case, punctuation dropped, spaces to hyphens, a
repeated heading gets -1, -2 ...). Absolute URLs are not fetched (no network here). Exit 0 when every link resolves.

Usage: scripts/check-links.py [root]
"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def pages():
    for top in ("README.md", "CHANGELOG.md"):
        if os.path.exists(os.path.join(root, top)):
            yield top
    for folder in ("src", "docs", "benchmarks", "k6-tests", "samples"):
        for directory, dirs, files in os.walk(os.path.join(root, folder)):
            dirs[:] = [d for d in dirs if d not in ("bin", "obj", "node_modules")]
            for name in files:
                if name.endswith(".md"):
                    yield os.path.relpath(os.path.join(directory, name), root)


def prose(path, keep_code=False):
    """The page's lines outside fenced code blocks; inline code removed (kept, without backticks, for headings)."""
    inside = False
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if FENCE.match(line.lstrip()):
                inside = not inside
                continue
            if not inside:
                yield number, line.replace("`", "") if keep_code else re.sub(r"`[^`]*`", "", line)


def slug(heading):
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


anchors_cache = {}


def anchors(path):
    if path not in anchors_cache:
        seen = {}
        found = set()
        for _, line in prose(path, keep_code=True):
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if not m:
                continue
            base = slug(m.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        with open(os.path.join(root, path), encoding="utf-8") as f:
            found.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", f.read()))
        anchors_cache[path] = found
    return anchors_cache[path]


problems = []
links = 0
for page in sorted(set(pages())):
    for number, line in prose(page):
        for target in LINK.findall(line) + IMAGE.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # http(s), mailto: not fetched
            links += 1
            file_part, _, anchor = target.partition("#")
            resolved = page if not file_part else os.path.normpath(os.path.join(os.path.dirname(page), file_part))
            if not os.path.exists(os.path.join(root, resolved)):
                problems.append(f"{page}:{number}: {target}: no file {resolved}")
                continue
            if anchor and resolved.endswith(".md") and anchor.lower() not in anchors(resolved):
                problems.append(f"{page}:{number}: {target}: {resolved} has no heading #{anchor}")

for p in problems:
    print(f"check-links: {p}", file=sys.stderr)
print(f"check-links: {links} relative links in {len(set(pages()))} pages, {len(problems)} broken")
sys.exit(1 if problems else 0)
