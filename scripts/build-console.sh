#!/usr/bin/env bash
# Builds the admin console (frontend/, Leptos compiled to wasm32) into target/console/, which the `berth`
# binary embeds when it is built next (server/build.rs). Installs what is missing into a tool cache outside
# the clone (~/.cache/berth-tools, or $BERTH_TOOLS): the wasm32 target, wasm-bindgen-cli at exactly the
# version of the `wasm-bindgen` crate in Cargo.lock, binaryen's `wasm-opt` from the npm package `binaryen`
# (a Node program: installs in seconds where compiling the `wasm-opt` crate took about 8 minutes; Debian's older
# binaryen produces modules Chromium rejects) and wasm_split_cli_support's `wasm-split-cli` (splits the lazily
# loaded pages, Leptos's `LazyRoute`/`#[lazy]`, into modules of their own). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${BERTH_TOOLS:-$HOME/.cache/berth-tools}"
dist="${BERTH_CONSOLE_DIST:-target/console}"
mkdir -p "$tools/bin"
export PATH="$tools/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$bindgen_version" ]; then
  echo "build-console: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null | awk '{ print $2 }')" != "$bindgen_version" ]; then
  echo "build-console: installing wasm-bindgen-cli $bindgen_version (a few minutes, once)" >&2
  # Without --locked: the CLI's own lock file pins a webpki-roots the registry no longer serves. Without default
  # features: they are a TLS stack (rustls, ring) for the test runner's webdriver downloads, which the console's
  # build never uses; leaving it out saves compiling it on a fresh machine.
  cargo install wasm-bindgen-cli --version "$bindgen_version" --root "$tools" --no-default-features
fi
# The splitter for Leptos's lazy routes (`#[lazy_route]`, `#[lazy]`): the version that reads what
# wasm_split_helpers 0.2.3 (Leptos 0.8.23's) writes; cargo-leptos runs the same library for `--split`.
split_version=0.2.4
# (The CLI has no --version: the installed version is noted beside it.)
if [ ! -x "$tools/bin/wasm-split-cli" ] || [ "$(cat "$tools/wasm-split-cli.version" 2>/dev/null)" != "$split_version" ]; then
  echo "build-console: installing wasm_split_cli_support $split_version (a few minutes, once)" >&2
  cargo install wasm_split_cli_support --version "$split_version" --locked --features build-binary --root "$tools"
  echo "$split_version" >"$tools/wasm-split-cli.version"
fi
# wasm-opt: binaryen's npm build (Emscripten-compiled, run by Node), pinned; one directory per version, so a
# change of version installs beside the old one. Its output was checked in Chromium (the console starts with no
# page error); Debian's binaryen 108 fails there with `WebAssembly.Table.set()`.
binaryen_version=132.0.0
binaryen_dir="$tools/binaryen-$binaryen_version"
wasm_opt="$binaryen_dir/node_modules/binaryen/bin/wasm-opt"
if ! "$wasm_opt" --version 2>/dev/null | grep -q "version ${binaryen_version%%.*} "; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "build-console: wasm-opt comes from npm; install Node.js and npm first (Debian: apt-get install npm)" >&2
    exit 1
  fi
  echo "build-console: installing binaryen $binaryen_version's wasm-opt from npm (seconds, once)" >&2
  rm -rf "$binaryen_dir.tmp" && mkdir -p "$binaryen_dir.tmp"
  npm install --prefix "$binaryen_dir.tmp" --no-audit --no-fund --no-update-notifier --loglevel=error \
    "binaryen@$binaryen_version" >&2
  rm -rf "$binaryen_dir" && mv "$binaryen_dir.tmp" "$binaryen_dir"
fi

# Panic locations name their source files: without the crate registry's absolute path (~/.cargo/registry/src/
# index.crates.io-…/) in front, each name is shorter (5 KB of the .wasm) and tells nothing about the build
# machine. (The standard library's paths are fixed in its prebuilt rlibs.) These flags join those of
# .cargo/config.toml.
remap=()
for src in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  [ -d "$src" ] && remap+=("\"--remap-path-prefix=$src=\"")
done
# --emit-relocs: the splitter reads the linker's relocations to tell which code each lazy page needs.
remap+=('"-Clink-args=--emit-relocs"')
rustflags=$(IFS=,; echo "${remap[*]:-}")
cargo build --locked -p berth-console --target wasm32-unknown-unknown --profile console-wasm \
  --config "target.wasm32-unknown-unknown.rustflags=[$rustflags]"

stage=$(mktemp -d target/console-build.XXXXXX)
trap '[ -z "${main_opt:-}" ] || kill "$main_opt" 2>/dev/null; rm -rf "$stage"' EXIT
# Split first (it needs rustc's relocations, which wasm-bindgen drops): the main module app.wasm (the shell and
# every page not lazy), one split_<name>.wasm per lazy route or function, chunk_<n>.wasm for code several of
# them share, and __wasm_split.js, the loader the main module imports (it imports initSync from ./app.js).
# --keep-lld-exports: the loader hands the lazy modules the main module's function table, which wasm-bindgen
# (0.2.130) would otherwise stop exporting.
RUST_LOG=warn "$tools/bin/wasm-split-cli" --target web --out-name app \
  target/wasm32-unknown-unknown/console-wasm/berth_console.wasm "$stage/split"
"$tools/bin/wasm-bindgen" --target web --no-typescript --keep-lld-exports --out-dir "$stage/bindgen" --out-name app \
  "$stage/split/app.wasm"
# --low-memory-unused: Rust's wasm32 layout puts the stack first and never hands out addresses below 1024, so
# binaryen may fold pointer arithmetic into load/store offsets (11 KB). --converge: repeat -Oz until it stops
# shrinking (2 KB). Measured with twiggy and kept in docs/benchmarks.md ("Console"). The lazy modules import
# the main module's memory, table and globals by name; wasm-opt keeps imports and exports as they are.
# The main module goes through the `wasm-opt` command. The ~70 lazy modules go through binaryen's JS API in one
# Node process, with the same settings (optimize level 2 and shrink level 2 are -Oz; the loop is --converge):
# 70 `wasm-opt` runs, each starting Node and compiling binaryen afresh, took 124 s of CPU here, one process 21 s.
# (The main module through the API came out 2.9 KB larger and no faster, so it keeps the command.)
opt_js='
import fs from "node:fs";
const [binaryenJs, ...files] = process.argv.slice(1);
const binaryen = (await import(binaryenJs)).default;
const F = binaryen.Features;
binaryen.setOptimizeLevel(2);
binaryen.setShrinkLevel(2);
binaryen.setLowMemoryUnused(true);
binaryen.setDebugInfo(false);
for (let i = 0; i + 1 < files.length; i += 2) {
  const module = binaryen.readBinary(fs.readFileSync(files[i]));
  module.setFeatures(module.getFeatures() | F.MutableGlobals | F.SignExt | F.BulkMemory | F.NontrappingFPToInt);
  let best = module.emitBinary();
  for (;;) {
    module.optimize();
    const next = module.emitBinary();
    if (next.length >= best.length) break;
    best = next;
  }
  if (!module.validate()) {
    console.error(`build-console: binaryen produced an invalid module from ${files[i]}`);
    process.exit(1);
  }
  fs.writeFileSync(files[i + 1], best);
  module.dispose();
}
'
# The main module is most of the work (about a minute): it runs beside the lazy modules, so both cores are busy.
"$wasm_opt" -Oz --converge --low-memory-unused --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$stage/bindgen/app_bg.wasm" -o "$stage/bindgen/app_bg.opt.wasm" &
main_opt=$!
lazy_modules=()
lazy_files=()
for module in "$stage"/split/split_*.wasm "$stage"/split/chunk_*.wasm; do
  [ -e "$module" ] || continue
  lazy_files+=("$module" "$stage/bindgen/$(basename "$module")")
  lazy_modules+=("$(basename "$module" .wasm)")
done
if [ ${#lazy_files[@]} -gt 0 ]; then
  # (binaryen warns about the name section's newer subsections, which it drops anyway.)
  node --input-type=module -e "$opt_js" "$binaryen_dir/node_modules/binaryen/index.js" "${lazy_files[@]}" \
    2> >(grep -v '^warning: unknown name subsection' >&2)
fi
main_status=0
wait "$main_opt" || main_status=$?
main_opt=
if [ "$main_status" -ne 0 ]; then
  echo "build-console: optimising the main module failed (exit status $main_status)" >&2
  exit 1
fi

# The size budget (DESIGN.md: at most 1.5 MB before compression) is for the first load: it applies to the main
# module, which every visit loads; the lazy modules load when their page is first visited. Kept by every build
# so CI fails the change that breaks it. BERTH_WASM_BUDGET only exists to try this check with a smaller number.
budget="${BERTH_WASM_BUDGET:-1500000}"
wasm_size=$(stat -c %s "$stage/bindgen/app_bg.opt.wasm")
if [ "$wasm_size" -gt "$budget" ]; then
  echo "build-console: the console's main WASM module (the first load) is $wasm_size bytes, over its budget of" \
    "$budget bytes ($((wasm_size - budget)) too many; DESIGN.md allows 1.5 MB before compression). Find what grew" \
    "with twiggy ($tools/bin/twiggy), make room as docs/benchmarks.md (\"Console\") describes, or load a" \
    "page lazily (lazy_page! in frontend/src/app.rs, as the administration pages are)." >&2
  exit 1
fi

# Fingerprinted copies: the content hash is in the name, so the server may cache them forever.
mkdir -p "$stage/dist/assets"
fingerprint() { # SOURCE STEM EXT → prints the URL path of the copy
  local hash
  hash=$(sha256sum "$1" | cut -c1-16)
  cp "$1" "$stage/dist/assets/$2.$hash.$3"
  echo "/assets/$2.$hash.$3"
}
# The lazy modules first, then the loader that names them. The loader and app.js name each other, so the
# loader's name hashes what decides its final text: its own text with the modules' names, and app.js before
# the loader's name is put in.
split_js="$stage/split/__wasm_split.js"
for module in "${lazy_modules[@]}"; do
  path=$(fingerprint "$stage/bindgen/$module.wasm" "$module" wasm)
  sed -i "s|\"\./$module\.wasm\"|\"./${path#/assets/}\"|g" "$split_js"
done
split_hash=$(cat "$split_js" "$stage/bindgen/app.js" | sha256sum | cut -c1-16)
split_name="wasm_split.$split_hash.js"
# Only the import statement: the imports object keeps the module name the main module's imports carry.
sed -i "s|^\(import .* from \"\)\./__wasm_split\.js\"|\1./$split_name\"|" "$stage/bindgen/app.js"
app_js=$(fingerprint "$stage/bindgen/app.js" app js)
sed "s|\"\./app\.js\"|\"./${app_js#/assets/}\"|g" "$split_js" >"$stage/dist/assets/$split_name"
if grep -q '"\./app\.js"\|from "\./__wasm_split\.js"\|\./split_[a-z0-9_]*\.wasm"\|\./chunk_[0-9]*\.wasm"' \
  "$stage/bindgen/app.js" "$stage/dist/assets/$split_name"; then
  echo "build-console: a module name in app.js or the split loader was left unfingerprinted" >&2
  exit 1
fi
app_wasm=$(fingerprint "$stage/bindgen/app_bg.opt.wasm" app_bg wasm)
# One stylesheet: the base (assets/console.css) then each area's own file (assets/css/*.css, in name order).
cat assets/console.css assets/css/*.css >"$stage/console.css" 2>/dev/null || cat assets/console.css >"$stage/console.css"
console_css=$(fingerprint "$stage/console.css" console css)
favicon=$(fingerprint assets/favicon.svg favicon svg)
# No inline script (the server's Content-Security-Policy forbids them): the theme switch and the module's
# start-up are files of their own.
theme_js=$(fingerprint assets/js/theme.js theme js)
sed -e "s|{{APP_JS}}|$app_js|g" -e "s|{{APP_WASM}}|$app_wasm|g" assets/js/boot.js >"$stage/boot.js"
boot_js=$(fingerprint "$stage/boot.js" boot js)
sed -e "s|{{APP_JS}}|$app_js|g" -e "s|{{APP_WASM}}|$app_wasm|g" \
  -e "s|{{CONSOLE_CSS}}|$console_css|g" -e "s|{{FAVICON}}|$favicon|g" \
  -e "s|{{THEME_JS}}|$theme_js|g" -e "s|{{BOOT_JS}}|$boot_js|g" \
  assets/index.html >"$stage/dist/index.html"
if grep -q '{{' "$stage/dist/index.html"; then
  echo "build-console: a placeholder of assets/index.html was left unfilled" >&2
  exit 1
fi

# Precompressed twins, sent when the browser accepts gzip (server/build.rs adds brotli ones).
find "$stage/dist" -type f ! -name '*.gz' -exec gzip -9 -k -n {} \;

rm -rf "$dist.old"
if [ -d "$dist" ]; then mv "$dist" "$dist.old"; fi
mv "$stage/dist" "$dist"
rm -rf "$dist.old"

wasm="$dist$app_wasm"
lazy_sizes=""
for module in "${lazy_modules[@]}"; do
  for f in "$dist"/assets/"$module".*.wasm; do
    lazy_sizes+="; lazy $module $(stat -c %s "$f") bytes, gzip $(stat -c %s "$f.gz") bytes"
  done
done
echo "build-console: $dist ready; main wasm $(stat -c %s "$wasm") bytes, gzip $(stat -c %s "$wasm.gz") bytes$lazy_sizes" >&2
