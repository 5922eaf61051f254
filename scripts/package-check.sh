#!/usr/bin/env bash
# Packs DualLock, DualLock.Redis, DualLock.MySql, DualLock.PostgreSql, DualLock.AspNetCore, DualLock.EntityFrameworkCore and DualLock.Testing
# as a consumer gets them and checks them:
#   1. pack the seven into artifacts/packages with a test version (0.1.0-check.<UTC time> unless
#      PACKAGE_CHECK_VERSION is set), a CI build (ContinuousIntegrationBuild) in its own artifacts folder;
#   2. check each package: its own README (not the repository's), lib/net8.0 + lib/net10.0, the dependency
#      ranges (DualLock bounded within the minor version), the .snupkg with a source-linked PDB per framework,
#      repository URL and commit; prints each package's contents (kept in artifacts/package-check/contents.txt);
#   3. compile every C# example of the four non-web package READMEs into the consumer, as written with its usings;
#      restore tests/PackageConsumer from those .nupkg files through its nuget.config (a fresh packages folder:
#      a cached package cannot stand in for the packed one; the restored .nupkg is compared byte for byte with the packed one);
#   4. publish it trimmed with the DualLock assemblies as roots: no trim warning at all, from DualLock.* or from
#      what the packages bring in (Dapper in DualLock.MySql brought 18);
#   5. run it (the build, then the trimmed publish) against the real servers: it takes a lock with each
#      registration, the MySQL and the PostgreSQL presets, and fails when a read-modify-write under it lost an
#      update (or when the unlocked control on either database lost none);
#   6. a new web project from the root README alone, outside the repository (none of its settings): `dotnet new web`,
#      the README's `dotnet add package` lines (at the packed version, from the packed folder), the README's C#
#      as Program.cs (docs/snippets/doc_pages.py program), built with warnings as errors; its ```sql run in a
#      scratch database, one user row, the app on a loopback port, one POST /users/{id}/charge?amount=5: passes
#      when it answers 1, the row lost 5 and the key's Redis fence counter exists (the dual lock's Redis part held);
#   7. the same for src/DualLock.AspNetCore/README.md (`dotnet add package DualLock.AspNetCore` only): its endpoint
#      filter takes the dual lock; POST charge?amount=5 answers 200 and commits, amount=5000 answers 400 and rolls
#      the handler's UPDATE back, and the key's Redis fence counter exists;
#   8. a new web project with DualLock.AspNetCore, DualLock.EntityFrameworkCore and Pomelo from the packed folder and
#      scripts/package-web/EfDualWeb.cs as Program.cs: the endpoint filter takes a dual lock whose transaction and row
#      lock come from the EF Core model, the handler writes with EF Core; 20 concurrent charges of 1 and a charge of 5
#      commit exactly (a read-modify-write with a gap), a charge of 5000 answers 400 and rolls back, a fence exists.
# Needs the servers' environment: eval "$(scripts/services.sh env)". Exit 0 only when every step passed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=${PACKAGE_CHECK_VERSION:-0.1.0-check.$(date -u +%Y%m%d%H%M%S)}
packages="$root/artifacts/packages"
work="$root/artifacts/package-check"
consumer="$root/tests/PackageConsumer"
ids=(DualLock DualLock.Redis DualLock.MySql DualLock.PostgreSql DualLock.AspNetCore DualLock.EntityFrameworkCore DualLock.Testing)
# The console consumer's packages; DualLock.AspNetCore and DualLock.EntityFrameworkCore are checked in web projects
# of their own (steps 7 and 8), DualLock.Testing by its contents (docs/testing.md runs its example).
consumer_ids=(DualLock DualLock.Redis DualLock.MySql DualLock.PostgreSql)

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
log() { echo "package-check: $*" >&2; }
fail() { echo "package-check: FAILED: $*" >&2; exit 1; }

: "${ConnectionStrings__MySql:?run eval \"\$(scripts/services.sh env)\" first}"
: "${ConnectionStrings__Redis:?run eval \"\$(scripts/services.sh env)\" first}"
: "${ConnectionStrings__Postgres:?run eval \"\$(scripts/services.sh env)\" first}"

rm -rf "$packages" "$work"
mkdir -p "$packages" "$work"

log "packing ${ids[*]} $version"
for id in "${ids[@]}"; do
  # Own artifacts folder: the solution's build outputs (artifacts/build) keep their version.
  dotnet pack "src/$id/$id.csproj" -c Release -nologo -clp:ErrorsOnly -o "$packages" \
    -p:MinVerVersionOverride="$version" -p:ContinuousIntegrationBuild=true -p:ArtifactsPath="$work/build"
done

# Without a version given, the version comes from git (MinVer): a tag vX.Y.Z, else X.Y.Z-alpha.0.<height>.
git_version=$(dotnet pack src/DualLock/DualLock.csproj -c Release -nologo -o "$work/git-version" -p:ArtifactsPath="$work/git-version-build" 2>&1 \
  | sed -n "s/.*Successfully created package '.*\/DualLock\.\(.*\)\.nupkg'.*/\1/p" | head -n 1)
log "version from git (MinVer): ${git_version:-none}"
[[ "$git_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-alpha\.0(\.[0-9]+)?)?$ ]] || fail "the version computed from git is '${git_version}', expected X.Y.Z or X.Y.Z-alpha.0.<height>"
echo "$git_version" >"$work/git-version.txt"

log "checking the packages"
python3 - "$packages" "$version" "$root" "${ids[@]}" <<'PY' | tee "$work/contents.txt"
import re, sys, zipfile, xml.etree.ElementTree as ET

packages, version, root, ids = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
core = version.split('-')[0].split('.')
bound = f"[{version}, {core[0]}.{int(core[1]) + 1}.0)"
frameworks = ["net8.0", "net10.0"]
repository = "https://github.com/duallock/duallock"
root_readme = open(f"{root}/README.md", "rb").read()
problems = []

def check(ok, message):
    if not ok:
        problems.append(message)
    return ok

for id in ids:
    nupkg = zipfile.ZipFile(f"{packages}/{id}.{version}.nupkg")
    names = set(nupkg.namelist())
    nuspec = ET.fromstring(nupkg.read(f"{id}.nuspec"))
    ns = {"n": nuspec.tag[1:].split("}")[0]}
    meta = nuspec.find("n:metadata", ns)
    text = lambda tag: (meta.findtext(f"n:{tag}", default="", namespaces=ns) or "").strip()

    readme = text("readme")
    check(readme == "README.md" and "README.md" in names, f"{id}: no README.md in the package")
    if "README.md" in names:
        packed = nupkg.read("README.md")
        try:
            own = open(f"{root}/src/{id}/README.md", "rb").read()
        except FileNotFoundError:
            own = None
        check(packed == own, f"{id}: the README is not src/{id}/README.md")
        check(packed != root_readme and b"./run.sh" not in packed, f"{id}: the repository's README is packed")
    for fw in frameworks:
        check(f"lib/{fw}/{id}.dll" in names, f"{id}: no lib/{fw}/{id}.dll")
        check(f"lib/{fw}/{id}.xml" in names, f"{id}: no lib/{fw}/{id}.xml (XML docs)")
    lib_frameworks = sorted({n.split("/")[1] for n in names if n.startswith("lib/")})
    check(lib_frameworks == sorted(frameworks), f"{id}: frameworks {lib_frameworks}, expected {frameworks}")

    groups = {}
    for group in meta.findall("n:dependencies/n:group", ns):
        fw = group.get("targetFramework", "")
        groups[fw] = [(d.get("id"), d.get("version")) for d in group.findall("n:dependency", ns)]
    check(sorted(g.lower() for g in groups) == sorted(frameworks), f"{id}: dependency groups {sorted(groups)}")
    for fw, deps in groups.items():
        for dep, ver in deps:
            if dep == "DualLock":
                check(ver == bound, f"{id} ({fw}): DualLock {ver}, expected {bound}")
            check(dep != "Dapper", f"{id} ({fw}): depends on Dapper")
        if id != "DualLock":
            check(any(dep == "DualLock" for dep, _ in deps), f"{id} ({fw}): no DualLock dependency")

    repo = meta.find("n:repository", ns)
    check(repo is not None and repo.get("url") == repository, f"{id}: repository url {None if repo is None else repo.get('url')}")
    check(repo is not None and re.fullmatch(r"[0-9a-f]{40}", repo.get("commit") or "") is not None, f"{id}: no repository commit")
    check(text("license") == "MIT", f"{id}: license {text('license')!r}")
    check(text("projectUrl") == repository, f"{id}: projectUrl {text('projectUrl')!r}")
    check(text("tags") != "", f"{id}: no tags")
    check(text("copyright").startswith("Copyright (c)"), f"{id}: no copyright")
    check(text("icon") == "icon.png" and "icon.png" in names, f"{id}: no icon.png")
    check(text("releaseNotes") != "", f"{id}: no release notes")
    for extra in ("LICENSE", "CHANGELOG.md"):
        check(extra in names and nupkg.read(extra) == open(f"{root}/{extra}", "rb").read(), f"{id}: no {extra} (the repository's) in the package")

    symbols = f"{packages}/{id}.{version}.snupkg"
    pdbs = []
    try:
        snupkg = zipfile.ZipFile(symbols)
        for fw in frameworks:
            pdb = f"lib/{fw}/{id}.pdb"
            if check(pdb in snupkg.namelist(), f"{id}: no {pdb} in the .snupkg"):
                data = snupkg.read(pdb)
                # The source link JSON: the CI build's deterministic root (/_/, not this machine's path) mapped to the
                # repository at the commit the nuspec names.
                commit = (repo.get("commit") or "") if repo is not None else ""
                link = f'{{"documents":{{"/_/*":"https://raw.githubusercontent.com/duallock/duallock/{commit}/*"}}}}'
                linked = bool(commit) and link.encode() in data
                check(linked, f"{id}: {pdb} has no source link {link}")
                pdbs.append(f"{fw}{' (source link)' if linked else ''}")
    except FileNotFoundError:
        check(False, f"{id}: no {id}.{version}.snupkg")

    print(f"{id} {version}")
    print(f"  frameworks: {', '.join(lib_frameworks)}")
    for fw in sorted(groups):
        print(f"  dependencies {fw}: " + (", ".join(f"{d} {v if v.startswith(('[', '(')) else '>= ' + v}" for d, v in groups[fw]) or "none"))
    print(f"  readme: {readme or 'none'} ({len(nupkg.read('README.md')) if 'README.md' in names else 0} bytes, src/{id}/README.md)")
    print(f"  symbols: {id}.{version}.snupkg, portable PDB for {', '.join(pdbs) or 'nothing'}")
    print(f"  repository: {repo.get('url') if repo is not None else 'none'} @ {(repo.get('commit') or '')[:12] if repo is not None else ''}; license {text('license')}; tags {text('tags')}")

for p in problems:
    print(f"package-check: FAILED: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY

# Every C# block of the three console package READMEs compiles into the consumer as written, with its own usings
# (one file each, inside a method, since they are top-level statements): a README example that does not
# compile against the packed packages fails here.
snippets="$work/readme-snippets"
mkdir -p "$snippets"
python3 - "$root" "$snippets" "${consumer_ids[@]}" <<'PY'
import re, sys
root, out, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
count = 0
for id in ids:
    text = open(f"{root}/src/{id}/README.md", encoding="utf-8").read()
    blocks = re.findall(r"^```csharp\n(.*?)^```", text, re.S | re.M)
    if not blocks:
        sys.exit(f"package-check: FAILED: src/{id}/README.md has no C# example")
    for n, block in enumerate(blocks, 1):
        lines = block.splitlines()
        usings = [l for l in lines if re.fullmatch(r"using [A-Za-z0-9_.]+;", l)]
        body = [l for l in lines if l not in usings]
        while body and not body[0].strip():
            body.pop(0)
        name = f"{id.replace('.', '')}Readme{n}"
        with open(f"{out}/{name}.cs", "w", encoding="utf-8") as f:
            f.write(f"// Generated by scripts/package-check.sh from src/{id}/README.md, C# block {n}.\n")
            f.write("\n".join(usings) + "\n\n")
            f.write(f"internal static class {name}\n{{\n    internal static async Task RunAsync()\n    {{\n")
            f.write("\n".join(("        " + l) if l else "" for l in body) + "\n")
            f.write("    }\n}\n")
        count += 1
print(f"readme examples: {count} C# blocks from {len(ids)} READMEs compiled into the consumer")
PY

# The machine's package cache serves everything else read-only (a fallback folder); DualLock.* at this version
# exist only in the local feed, so they land in the fresh folder.
cache="$work/nuget-packages"
global=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
restore_props=(-p:DualLockVersion="$version" -p:RestorePackagesPath="$cache" -p:RestoreFallbackFolders="$global" -p:ReadmeSnippetsDir="$snippets/")

log "restoring and building tests/PackageConsumer from the packages"
dotnet build "$consumer/PackageConsumer.csproj" -c Release -nologo -clp:ErrorsOnly "${restore_props[@]}"
for id in "${consumer_ids[@]}"; do
  lower=$(tr '[:upper:]' '[:lower:]' <<<"$id")
  restored="$cache/$lower/$version/$lower.$version.nupkg"
  [ -f "$restored" ] || fail "$id $version was not restored into $cache (restored from somewhere else?)"
  cmp -s "$restored" "$packages/$id.$version.nupkg" || fail "$id: the restored package is not the one packed"
done
for id in DualLock.MySql DualLock.PostgreSql; do
  grep -q "\"$id/" "$work/consumer/obj/PackageConsumer/project.assets.json" || fail "the consumer's assets do not list $id"
done
grep -q '"type": "project"' "$work/consumer/obj/PackageConsumer/project.assets.json" && fail "the consumer references a project, not the packages"

log "publishing it trimmed (trim analysis of DualLock.*)"
publish_log="$work/publish-trimmed.log"
if ! dotnet publish "$consumer/PackageConsumer.csproj" -c Release -nologo -r linux-x64 --self-contained \
  -p:PublishTrimmed=true -p:TreatWarningsAsErrors=false "${restore_props[@]}" >"$publish_log" 2>&1; then
  tail -n 30 "$publish_log" >&2
  fail "the trimmed publish failed (log: $publish_log)"
fi
warnings=$(grep -E 'warning IL[0-9]+' "$publish_log" | sed -E 's/ +\[[^]]*\]$//' | sort -u || true)
duallock_warnings=$(grep -E 'DualLock' <<<"$warnings" || true)
echo "trim analysis: $(grep -c . <<<"$warnings" || true) distinct trim warnings, $(grep -c . <<<"$duallock_warnings" || true) of them in DualLock.* code"
# Any warning fails, also one from a dependency: a consumer trims what the packages bring in (with Dapper inside
# DualLock.MySql, this publish reported 18, all from Dapper's code and none naming DualLock).
[ -z "$warnings" ] || { echo "$warnings" >&2; fail "trim warnings in a consumer of the packages (log: $publish_log)"; }

log "running the consumer against the real servers"
dotnet "$work/consumer/bin/PackageConsumer/release/PackageConsumer.dll" || fail "the consumer (build) failed"
log "running the trimmed consumer"
"$work/consumer/publish/PackageConsumer/release_linux-x64/PackageConsumer" || fail "the consumer (trimmed) failed"
# 6. The root README as a reader uses it: a fresh web project, the packages it names, its example, the servers.
log "a new web project from the root README alone"
web_root=$(mktemp -d "${TMPDIR:-/tmp}/duallock-readme-web.XXXXXX")
web="$web_root/ReadmeWeb"
database="duallock_readme_$$"
read -r db_host db_port db_user db_password < <(python3 - <<'PY'
import os
parts = dict(p.split("=", 1) for p in os.environ["ConnectionStrings__MySql"].split(";") if "=" in p)
get = lambda *names: next((parts[n] for n in parts if n.lower().replace(" ", "") in names), "")
print(get("server", "host") or "127.0.0.1", get("port") or "3306", get("userid", "user", "uid", "username"), get("password", "pwd"))
PY
)
sql() { MYSQL_PWD="$db_password" mariadb --protocol=tcp -h "$db_host" -P "$db_port" -u "$db_user" "$@"; }
web_pid=""
aspnet_pid="" aspnet_root="" aspnet_database="duallock_aspnet_$$"
ef_pid="" ef_root="" ef_database="duallock_efweb_$$"
cleanup_web() {
  if [ -n "$web_pid" ]; then kill "$web_pid" 2>/dev/null || true; wait "$web_pid" 2>/dev/null || true; fi
  sql -e "DROP DATABASE IF EXISTS \`$database\`" || true
  rm -rf "$web_root"
  if [ -n "$aspnet_pid" ]; then kill "$aspnet_pid" 2>/dev/null || true; wait "$aspnet_pid" 2>/dev/null || true; fi
  sql -e "DROP DATABASE IF EXISTS \`$aspnet_database\`" || true
  rm -rf "$aspnet_root"
  if [ -n "$ef_pid" ]; then kill "$ef_pid" 2>/dev/null || true; wait "$ef_pid" 2>/dev/null || true; fi
  sql -e "DROP DATABASE IF EXISTS \`$ef_database\`" || true
  rm -rf "$ef_root"
}
trap cleanup_web EXIT
dotnet new web -n ReadmeWeb -o "$web" --no-restore >"$work/readme-web-new.log" 2>&1 || fail "dotnet new web failed ($work/readme-web-new.log)"
# The packed folder and this run's fresh package folder (the machine's cache read-only behind it).
cat >"$web_root/nuget.config" <<EOF
<configuration>
  <config><add key="globalPackagesFolder" value="$cache" /></config>
  <packageSources><add key="duallock-local" value="$packages" /></packageSources>
  <fallbackPackageFolders><add key="machine" value="$global" /></fallbackPackageFolders>
</configuration>
EOF
readme_lines=$(wc -l <README.md)
[ "$readme_lines" -le 150 ] || fail "README.md has $readme_lines lines; a reader gets started from at most 150"
readme_packages=$(sed -n '/^```bash$/,/^```$/s/^dotnet add package \([A-Za-z0-9.]*\).*/\1/p' README.md)
[ -n "$readme_packages" ] || fail "README.md shows no dotnet add package line"
for id in $readme_packages; do
  # A reader gets the latest version; here the one just packed.
  dotnet add "$web/ReadmeWeb.csproj" package "$id" --version "$version" >>"$work/readme-web-add.log" 2>&1 \
    || { tail -n 20 "$work/readme-web-add.log" >&2; fail "dotnet add package $id --version $version failed"; }
done
python3 docs/snippets/doc_pages.py program "$root" README.md >"$web/Program.cs"
cp "$web/Program.cs" "$work/readme-web-Program.cs"
dotnet build "$web/ReadmeWeb.csproj" -c Release -nologo -clp:ErrorsOnly -p:TreatWarningsAsErrors=true >"$work/readme-web-build.log" 2>&1 \
  || { grep -E 'error|warning' "$work/readme-web-build.log" | sort -u >&2; fail "the README's example does not build in a new web project ($work/readme-web-build.log)"; }
grep -q '"type": "project"' "$web/obj/project.assets.json" && fail "the README's web project references a project, not the packages"
sql -e "CREATE DATABASE \`$database\`" || fail "cannot create the scratch database $database"
sed -n '/^```sql$/,/^```$/{/^```/d;p}' README.md | sql "$database" || fail "the README's sql does not run on MariaDB"
id=$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1000000 ))
sql "$database" -e "INSERT INTO user_points (user_id, amount) VALUES ($id, 100)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ConnectionStrings__MySql=$(sed -E "s/(^|;)[[:space:]]*Database=[^;]*/\1Database=$database/I" <<<"$ConnectionStrings__MySql") \
  ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet "$web/bin/Release/net10.0/ReadmeWeb.dll" >"$work/readme-web-run.log" 2>&1 &
web_pid=$!
tries=0
until answer=$(curl -sS --max-time 10 -X POST "http://127.0.0.1:$port/users/$id/charge?amount=5" 2>/dev/null); do
  tries=$((tries + 1))
  kill -0 "$web_pid" 2>/dev/null || { tail -n 20 "$work/readme-web-run.log" >&2; fail "the README's web app exited before answering"; }
  [ "$tries" -lt 60 ] || fail "the README's web app did not answer on port $port within 30 s ($work/readme-web-run.log)"
  sleep 0.5
done
kill "$web_pid"; wait "$web_pid" 2>/dev/null || true; web_pid=""
amount=$(sql "$database" -N -e "SELECT amount FROM user_points WHERE user_id = $id")
redis_endpoint=${ConnectionStrings__Redis%%,*}
fence=$(redis-cli -h "${redis_endpoint%:*}" -p "${redis_endpoint##*:}" GET "duallock:{user-point:$id}:fence")
[ "$answer" = 1 ] && [ "$amount" = 95 ] && [ -n "$fence" ] \
  || fail "the README's web app: POST /users/$id/charge?amount=5 answered '$answer' (expected 1), amount $amount (expected 95), Redis fence '$fence' (expected a token) ($work/readme-web-run.log)"
echo "readme web project: dotnet new web + $(tr '\n' ' ' <<<"$readme_packages")at $version + the README's example: POST /users/$id/charge?amount=5 answered 1, amount 100 -> 95, Redis fence token $fence"

# Steps 7 and 8 build a web project against the packed packages, start it on a free loopback port over its own
# scratch database, and wait for its first answer; these three do that for both.
build_web() { # <project dir> <project name> <what, for the messages> <log prefix>
  dotnet build "$1/$2.csproj" -c Release -nologo -clp:ErrorsOnly -p:TreatWarningsAsErrors=true >"$work/$4-web-build.log" 2>&1 \
    || { grep -E 'error|warning' "$work/$4-web-build.log" | sort -u >&2; fail "$3 does not build in a new web project ($work/$4-web-build.log)"; }
  grep -q '"type": "project"' "$1/obj/project.assets.json" && fail "$3 references a project, not the packages"
  return 0
}
start_web() { # <prefix: sets <prefix>_pid and <prefix>_port> <dll> <database>
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  ConnectionStrings__MySql=$(sed -E "s/(^|;)[[:space:]]*Database=[^;]*/\1Database=$3/I" <<<"$ConnectionStrings__MySql") \
    ASPNETCORE_URLS="http://127.0.0.1:$port" dotnet "$2" >"$work/$1-web-run.log" 2>&1 &
  printf -v "$1_pid" '%s' "$!"
  printf -v "$1_port" '%s' "$port"
}
first_answer() { # <prefix> <variable for the answer> <command...>: retried while the app starts, at most 30 s
  local prefix=$1 into=$2 pid_var="$1_pid" tries=0 answer
  shift 2
  until answer=$("$@" 2>/dev/null); do
    tries=$((tries + 1))
    kill -0 "${!pid_var}" 2>/dev/null || { tail -n 20 "$work/$prefix-web-run.log" >&2; fail "the $prefix web app exited before answering"; }
    [ "$tries" -lt 60 ] || fail "the $prefix web app did not answer within 30 s ($work/$prefix-web-run.log)"
    sleep 0.5
  done
  printf -v "$into" '%s' "$answer"
}

# 7. The DualLock.AspNetCore README the same way: a fresh web project with that one package, its example as
# Program.cs, the endpoint filter taking the dual lock on the servers; a success commits, an error result rolls back.
log "a new web project from src/DualLock.AspNetCore/README.md alone"
aspnet_root=$(mktemp -d "${TMPDIR:-/tmp}/duallock-aspnet-web.XXXXXX")
aspnet="$aspnet_root/AspNetWeb"
dotnet new web -n AspNetWeb -o "$aspnet" --no-restore >"$work/aspnet-web-new.log" 2>&1 || fail "dotnet new web failed ($work/aspnet-web-new.log)"
cp "$web_root/nuget.config" "$aspnet_root/nuget.config"
dotnet add "$aspnet/AspNetWeb.csproj" package DualLock.AspNetCore --version "$version" >"$work/aspnet-web-add.log" 2>&1 \
  || { tail -n 20 "$work/aspnet-web-add.log" >&2; fail "dotnet add package DualLock.AspNetCore --version $version failed"; }
python3 docs/snippets/doc_pages.py program "$root" src/DualLock.AspNetCore/README.md >"$aspnet/Program.cs"
cp "$aspnet/Program.cs" "$work/aspnet-web-Program.cs"
build_web "$aspnet" AspNetWeb "the DualLock.AspNetCore README's example" aspnet
sql -e "CREATE DATABASE \`$aspnet_database\`" || fail "cannot create the scratch database $aspnet_database"
sed -n '/^```sql$/,/^```$/{/^```/d;p}' src/DualLock.AspNetCore/README.md | sql "$aspnet_database" || fail "the DualLock.AspNetCore README's sql does not run on MariaDB"
aspnet_id=$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1000000 ))
sql "$aspnet_database" -e "INSERT INTO user_points (user_id, amount) VALUES ($aspnet_id, 100)"
start_web aspnet "$aspnet/bin/Release/net10.0/AspNetWeb.dll" "$aspnet_database"
charge() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$aspnet_port/users/$aspnet_id/charge?amount=$1"; }
first_answer aspnet ok_status charge 5
refused_status=$(charge 5000)
kill "$aspnet_pid"; wait "$aspnet_pid" 2>/dev/null || true; aspnet_pid=""
aspnet_amount=$(sql "$aspnet_database" -N -e "SELECT amount FROM user_points WHERE user_id = $aspnet_id")
aspnet_fence=$(redis-cli -h "${redis_endpoint%:*}" -p "${redis_endpoint##*:}" GET "duallock:{user-point:$aspnet_id}:fence")
[ "$ok_status" = 200 ] && [ "$refused_status" = 400 ] && [ "$aspnet_amount" = 105 ] && [ -n "$aspnet_fence" ] \
  || fail "the DualLock.AspNetCore web app: charge 5 answered $ok_status (expected 200), charge 5000 answered $refused_status (expected 400), amount $aspnet_amount (expected 105: the 5000 rolled back), Redis fence '$aspnet_fence' (expected a token) ($work/aspnet-web-run.log)"
echo "aspnet web project: dotnet new web + DualLock.AspNetCore $version + its README's example: charge 5 answered 200, charge 5000 answered 400 and rolled back, amount 100 -> 105, Redis fence token $aspnet_fence"

# 8. EF Core and the endpoint filter together, from the packed packages: the dual lock's transaction and row lock
# from the EF model, the handler's read-modify-write through a DbContext in the lock's transaction.
log "a new web project taking a dual lock with EF Core through the endpoint filter"
ef_root=$(mktemp -d "${TMPDIR:-/tmp}/duallock-ef-web.XXXXXX")
ef="$ef_root/EfWeb"
dotnet new web -n EfWeb -o "$ef" --no-restore >"$work/ef-web-new.log" 2>&1 || fail "dotnet new web failed ($work/ef-web-new.log)"
cp "$web_root/nuget.config" "$ef_root/nuget.config"
pomelo=$(sed -n 's/.*PackageVersion Include="Pomelo.EntityFrameworkCore.MySql" Version="\([^"]*\)".*/\1/p' Directory.Packages.props)
for package in "DualLock.AspNetCore $version" "DualLock.EntityFrameworkCore $version" "Pomelo.EntityFrameworkCore.MySql $pomelo"; do
  dotnet add "$ef/EfWeb.csproj" package ${package% *} --version "${package#* }" >>"$work/ef-web-add.log" 2>&1 \
    || { tail -n 20 "$work/ef-web-add.log" >&2; fail "dotnet add package $package failed"; }
done
cp scripts/package-web/EfDualWeb.cs "$ef/Program.cs"
build_web "$ef" EfWeb "scripts/package-web/EfDualWeb.cs" ef
sql -e "CREATE DATABASE \`$ef_database\`" || fail "cannot create the scratch database $ef_database"
sql "$ef_database" -e "CREATE TABLE user_points (user_id BIGINT NOT NULL PRIMARY KEY, amount BIGINT NOT NULL) ENGINE=InnoDB"
ef_id=$(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1000000 ))
sql "$ef_database" -e "INSERT INTO user_points (user_id, amount) VALUES ($ef_id, 100)"
start_web ef "$ef/bin/Release/net10.0/EfWeb.dll" "$ef_database"
ef_charge() { curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$ef_port/users/$ef_id/charge?amount=$1"; }
first_answer ef ef_ok ef_charge 5
curls=()
for _ in $(seq 1 20); do { ef_charge 1; echo; } >>"$work/ef-web-concurrent.txt" & curls+=($!); done
for job in "${curls[@]}"; do wait "$job" || true; done
ef_concurrent=$(grep -o 200 "$work/ef-web-concurrent.txt" | wc -l)
ef_refused=$(ef_charge 5000)
kill "$ef_pid"; wait "$ef_pid" 2>/dev/null || true; ef_pid=""
ef_amount=$(sql "$ef_database" -N -e "SELECT amount FROM user_points WHERE user_id = $ef_id")
ef_fence=$(redis-cli -h "${redis_endpoint%:*}" -p "${redis_endpoint##*:}" GET "duallock:{user-point:$ef_id}:fence")
[ "$ef_ok" = 200 ] && [ "$ef_concurrent" = 20 ] && [ "$ef_refused" = 400 ] && [ "$ef_amount" = 125 ] && [ -n "$ef_fence" ] \
  || fail "the EF Core web app: charge 5 answered $ef_ok (expected 200), $ef_concurrent of 20 concurrent charges of 1 answered 200, charge 5000 answered $ef_refused (expected 400), amount $ef_amount (expected 125: exact, the 5000 rolled back), Redis fence '$ef_fence' ($work/ef-web-run.log)"
echo "ef web project: dotnet new web + DualLock.AspNetCore, DualLock.EntityFrameworkCore $version, Pomelo $pomelo + scripts/package-web/EfDualWeb.cs: 20 concurrent charges of 1 and one of 5 committed exactly (100 -> 125), charge 5000 answered 400 and rolled back, Redis fence token $ef_fence"
log "passed: ${ids[*]} $version"
