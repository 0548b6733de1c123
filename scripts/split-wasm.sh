#!/bin/sh
# Trunk's post-build hook (Trunk.toml): cuts the app's `#[lazy]` functions (app/src/on_demand.rs)
# out of the first download into wasm modules fetched when first used.
#
# Trunk 0.21 links, runs wasm-bindgen and wasm-opt on the whole app; it does not know about
# wasm-split. So this hook starts again from the linked app.wasm (built with
# `--emit-relocs`, .cargo/config.toml), and:
#   1. wasm-split (wasm_split_cli_support 0.2, the splitter Leptos' `#[lazy]` is made for)
#      writes the main module, one module per lazy function, shared chunks and the loader
#      `__wasm_split.js`;
#   2. wasm-bindgen (the same 0.2.130 Trunk uses) makes the main module's js glue, under
#      the hashed name Trunk chose;
#   3. wasm-opt -Oz, as index.html's data-wasm-opt="z" asks, on every module (release);
#   4. every new file gets a content hash in its name (so the relay serves it `immutable`
#      and the service worker keeps it), and the page lists them: a modulepreload for the
#      loader, and the boot script's `data-lazy` for the service worker (public/sw.js), which
#      keeps them on the first visit so that every page opens offline.
set -eu

staging=${TRUNK_STAGING_DIR:?run by trunk as a post_build hook}
root=$(cd "$(dirname "$0")/.." && pwd)
split=${WASM_SPLIT:-wasm-split-cli}
case "${TRUNK_PROFILE:-debug}" in
  release) profile=wasm-release ;; # index.html's data-cargo-profile
  *) profile=debug ;;
esac
input="$root/target/wasm32-unknown-unknown/$profile/app.wasm"

glue=$(ls "$staging"/app-*.js)
stem=$(basename "$glue" .js)
[ -f "$staging/${stem}_bg.wasm" ] || { echo "split-wasm: no ${stem}_bg.wasm in $staging" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$split" --out-name "$stem" "$input" "$work/split" >&2
wasm-bindgen --target web --no-typescript --out-dir "$work/bindgen" --out-name "$stem" "$work/split/$stem.wasm"

# What Rust 1.95's wasm32-unknown-unknown emits by default (the text round trip below loses
# the module's own target_features section).
features="--enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue"

optimise() {
  if [ "$profile" = wasm-release ]; then
    wasm-opt -Oz $features "$1" -o "$1.opt"
    mv "$1.opt" "$1"
  fi
}

hash16() {
  sha256sum "$1" | cut -c1-16
}

# wasm-bindgen 0.2.130 drops the function table's export, which the lazy modules put their
# functions into (`__wasm_split.__indirect_function_table` in the loader): export it again.
main="$work/bindgen/${stem}_bg.wasm"
wasm-dis "$main" -o "$work/main.wat"
table=$(sed -n 's/^ (table \(\$[^ ]*\) .* funcref)$/\1/p' "$work/main.wat" | head -n 1)
[ -n "$table" ] || { echo "split-wasm: no function table in the main module" >&2; exit 1; }
sed -i "/^ (export \"memory\"/a\ (export \"__indirect_function_table\" (table $table))" "$work/main.wat"
wasm-as $features "$work/main.wat" -o "$main"
optimise "$main"
loader="$work/split/__wasm_split.js"
lazy=""
for module in "$work"/split/split_*.wasm "$work"/split/chunk_*.wasm; do
  [ -f "$module" ] || continue
  optimise "$module"
  name=$(basename "$module" .wasm)
  hashed="$name-$(hash16 "$module").wasm"
  sed -i "s|\"./$name.wasm\"|\"./$hashed\"|" "$loader"
  cp "$module" "$staging/$hashed"
  lazy="$lazy /$hashed"
done
loader_name="split-$(hash16 "$loader").js"
cp "$loader" "$staging/$loader_name"
# Only the js import moves to the hashed name; the wasm's import module keeps its own.
sed "s|from \"./__wasm_split.js\"|from \"./$loader_name\"|" "$work/bindgen/$stem.js" >"$staging/$stem.js"
cp "$work/bindgen/${stem}_bg.wasm" "$staging/${stem}_bg.wasm"
grep -q "from \"./$loader_name\"" "$staging/$stem.js" || {
  echo "split-wasm: the js glue does not import the split loader" >&2
  exit 1
}

page="$staging/index.html"
sed -i \
  -e "s|id=\"firebreak-boot\"|id=\"firebreak-boot\" data-lazy=\"${lazy# }\"|" \
  -e "s|</head>|<link rel=\"modulepreload\" href=\"/$loader_name\"></head>|" \
  "$page"
echo "split-wasm: main ${stem}_bg.wasm $(wc -c <"$staging/${stem}_bg.wasm") bytes; on demand:$lazy" >&2
