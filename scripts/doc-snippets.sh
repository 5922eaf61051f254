#!/usr/bin/env bash
# Compiles every doc page as a whole program, and runs the pages that take a lock on the servers.
# Pages: README.md, src/*/README.md, docs/**/*.md. The rule (docs/snippets/README.md; docs/snippets/doc_pages.py):
#   - a page's ```csharp blocks, in page order, are ONE Program.cs of top-level statements; each block's `using`
#     lines move to the top (duplicates once), so type declarations may only follow the statements;
#   - nothing is declared for a page: it declares what it uses, or starts with `<!-- page: continues other.md -->`
#     and the other page's blocks come first; a block after `<!-- snippet: skip -->` is not part of the program;
#   - each page is its own project (docs/snippets/DocPage.props: net10.0 console, ASP.NET Core referenced,
#     project references to the four libraries, warnings as errors), so pages never see each other's names;
#     #line directives make every error name the doc file and line;
#   - a page whose C# uses a table (FROM / UPDATE / INTO <name>, AddMySqlRowLock("<name>"), Table = "<name>")
#     has CREATE TABLE <name> in a ```sql block (on the page or one it continues); every page's sql runs on the
#     real MariaDB, in a scratch database created and dropped here;
#   - README.md and docs/getting-started.md (web apps) run against the real servers: the page's DDL, one row,
#     the app on a loopback port, one POST /users/{id}/charge?amount=5; passes when it answers 1, the row lost
#     5 and the key's Redis fence counter exists (the Redis lock was taken, not only the row lock).
# Needs the servers' environment (eval "$(scripts/services.sh env)"); DOC_SNIPPETS_COMPILE_ONLY=1 compiles only
# and says so. Prints the counts of pages, blocks and markers. Exit 0 only when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
configuration=${CONFIGURATION:-Release}
out="$root/artifacts/doc-snippets"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
fail() { echo "doc-snippets: FAILED: $*" >&2; exit 1; }

compile_only=${DOC_SNIPPETS_COMPILE_ONLY:-0}
if [ "$compile_only" != 1 ]; then
  : "${ConnectionStrings__MySql:?run eval \"\$(scripts/services.sh env)\" first (or DOC_SNIPPETS_COMPILE_ONLY=1)}"
  : "${ConnectionStrings__Redis:?run eval \"\$(scripts/services.sh env)\" first (or DOC_SNIPPETS_COMPILE_ONLY=1)}"
fi

rm -rf "$out/sql" "$out/pages.json"
mkdir -p "$out"
python3 docs/snippets/doc_pages.py generate "$root" "$out"

log="$out/build.log"
started=$SECONDS
if dotnet build "$out/pages.slnx" -c "$configuration" -nologo -clp:ErrorsOnly >"$log" 2>&1; then
  echo "doc pages: every page compiles as one program ($((SECONDS - started)) s)"
else
  # The #line directives make each error start with the doc file and line.
  echo "doc-snippets: FAILED: these pages do not compile as programs (full log: $log)" >&2
  grep -E 'error [A-Z]+[0-9]+' "$log" | sed -E "s#^$root/##; s/ +\[[^]]*\]$//" | sort -u >&2 || tail -n 30 "$log" >&2
  exit 1
fi

if [ "$compile_only" = 1 ]; then
  echo "doc pages: DOC_SNIPPETS_COMPILE_ONLY=1: no sql applied, no page run"
  exit 0
fi

# The scratch database: the server's account may create duallock_* databases. Own name per run.
read -r db_host db_port db_user db_password < <(python3 - <<'PY'
import os
parts = dict(p.split("=", 1) for p in os.environ["ConnectionStrings__MySql"].split(";") if "=" in p)
get = lambda *names: next((parts[n] for n in parts if n.lower().replace(" ", "") in names), "")
print(get("server", "host") or "127.0.0.1", get("port") or "3306", get("userid", "user", "uid", "username"), get("password", "pwd"))
PY
)
database="duallock_docs_$$"
export MYSQL_PWD="$db_password"
sql() { mariadb --protocol=tcp -h "$db_host" -P "$db_port" -u "$db_user" "$@"; }
sql -e "CREATE DATABASE \`$database\`" || fail "cannot create the scratch database $database on $db_host:$db_port"
app_pid=""
cleanup() {
  [ -n "$app_pid" ] && kill "$app_pid" 2>/dev/null && wait "$app_pid" 2>/dev/null
  sql -e "DROP DATABASE IF EXISTS \`$database\`" || true
}
trap cleanup EXIT
page_mysql=$(sed -E "s/(^|;)[[:space:]]*Database=[^;]*/\1Database=$database/I" <<<"$ConnectionStrings__MySql")

# Every page's sql, on its own: the tables it creates are dropped first, so pages that create one table agree.
python3 - "$out/pages.json" "$out/sql" <<'PY'
import json, os, re, sys
entries, folder = json.load(open(sys.argv[1])), sys.argv[2]
os.makedirs(folder, exist_ok=True)
for e in entries:
    if e["sql"]:
        tables = re.findall(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)", "\n".join(e["sql"]), re.I)
        with open(os.path.join(folder, e["name"] + ".sql"), "w") as f:
            f.write("".join(f"DROP TABLE IF EXISTS `{t}`;\n" for t in reversed(tables)) + "\n".join(e["sql"]) + "\n")
PY
applied=0
for file in "$out"/sql/*.sql; do
  [ -e "$file" ] || continue
  sql "$database" <"$file" || fail "the sql of $(basename "$file" .sql) does not run on MariaDB ($file)"
  applied=$((applied + 1))
done
echo "doc pages: the sql of $applied pages runs on MariaDB ($database)"

bin="$root/artifacts/build/bin"
conf_dir=$(tr '[:upper:]' '[:lower:]' <<<"$configuration")
redis_host=${ConnectionStrings__Redis%%,*}
# Runs the web app of one page: its DDL, one user row, one charge, the answer, the row and the Redis fence counter.
run_web_page() {
  local page=$1 name=$2
  local id=$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1000000 ))
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  sql "$database" <"$out/sql/$name.sql" || fail "$page: its sql does not run"
  sql "$database" -e "INSERT INTO user_points (user_id, amount) VALUES ($id, 100)"
  local app_log="$out/run-$name.log"
  ConnectionStrings__MySql="$page_mysql" ASPNETCORE_URLS="http://127.0.0.1:$port" \
    dotnet "$bin/$name/$conf_dir/$name.dll" >"$app_log" 2>&1 &
  app_pid=$!
  local answer="" tries=0
  until answer=$(curl -sS --max-time 10 -X POST "http://127.0.0.1:$port/users/$id/charge?amount=5" 2>/dev/null); do
    tries=$((tries + 1))
    kill -0 "$app_pid" 2>/dev/null || { tail -n 20 "$app_log" >&2; fail "$page: the app exited before answering (log: $app_log)"; }
    [ "$tries" -lt 60 ] || fail "$page: the app did not answer on port $port within 30 s (log: $app_log)"
    sleep 0.5
  done
  kill "$app_pid"; wait "$app_pid" 2>/dev/null || true; app_pid=""
  local amount fence
  amount=$(sql "$database" -N -e "SELECT amount FROM user_points WHERE user_id = $id")
  fence=$(redis-cli -h "${redis_host%:*}" -p "${redis_host##*:}" GET "duallock:{user-point:$id}:fence")
  [ "$answer" = 1 ] && [ "$amount" = 95 ] && [ -n "$fence" ] \
    || fail "$page: POST /users/$id/charge?amount=5 answered '$answer' (expected 1), amount $amount (expected 95), Redis fence '$fence' (expected a token) (log: $app_log)"
  echo "doc pages: ran $page: POST /users/$id/charge?amount=5 answered 1, amount 100 -> 95, Redis fence token $fence"
}
run_web_page README.md DocPage_README
run_web_page docs/getting-started.md DocPage_docs_getting_started
echo "doc pages: passed"
