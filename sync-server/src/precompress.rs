//! `sync-server precompress DIST`: writes a brotli (`FILE.br`) and a gzip (`FILE.gz`) copy
//! beside every text and WebAssembly file of the built app, once, at build time, so the relay
//! serves them compressed at the best ratio without compressing on any request
//! ([`crate::http::static_files`] picks one by `Accept-Encoding`). Copies that would not be
//! smaller are not written; copies whose file is gone are removed. Run it again after every
//! `trunk build` (`scripts/setup.sh` does); a copy left from an older build is not served.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::http::static_files::Coding;

/// `sync-server precompress DIST`.
#[derive(clap::Parser, Debug)]
#[command(
    name = "sync-server precompress",
    about = "Writes FILE.br and FILE.gz beside each text and wasm file of the built app"
)]
pub struct PrecompressArgs {
    /// The built app (trunk's dist/).
    pub dist: PathBuf,
}

/// The extensions worth compressing (images such as PNG are compressed already).
const COMPRESSIBLE: &[&str] = &[
    "html",
    "js",
    "mjs",
    "wasm",
    "css",
    "svg",
    "webmanifest",
    "json",
    "txt",
    "map",
    "xml",
    "ico",
];

/// One file's sizes: as it is, and each copy written (`None`: not smaller, not written).
#[derive(Debug)]
pub struct Compressed {
    pub path: PathBuf,
    pub raw: u64,
    pub brotli: Option<u64>,
    pub gzip: Option<u64>,
}

/// Compresses every compressible file under `dist` and removes orphaned copies.
pub fn run(dist: &Path) -> anyhow::Result<Vec<Compressed>> {
    anyhow::ensure!(
        dist.is_dir(),
        "{} is not a directory (the built app: run `trunk build --release` first)",
        dist.display()
    );
    let mut files = Vec::new();
    walk(dist, &mut files).with_context(|| format!("reading {}", dist.display()))?;
    files.sort();
    let mut out = Vec::new();
    for path in &files {
        let name = path.to_string_lossy();
        if let Some(original) = Coding::ALL
            .iter()
            .find_map(|c| name.strip_suffix(c.suffix()))
        {
            if !Path::new(original).is_file() {
                std::fs::remove_file(path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
            continue;
        }
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e.to_ascii_lowercase().as_str()));
        if !compressible {
            continue;
        }
        let body = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut sizes = [None, None];
        for (i, coding) in Coding::ALL.into_iter().enumerate() {
            let encoded = encode(coding, &body)?;
            let target = PathBuf::from(format!("{name}{}", coding.suffix()));
            if encoded.len() < body.len() {
                write_atomically(&target, &encoded)?;
                sizes[i] = Some(encoded.len() as u64);
            } else if target.exists() {
                std::fs::remove_file(&target)
                    .with_context(|| format!("removing {}", target.display()))?;
            }
        }
        out.push(Compressed {
            path: path.strip_prefix(dist).unwrap_or(path).to_owned(),
            raw: body.len() as u64,
            brotli: sizes[0],
            gzip: sizes[1],
        });
    }
    Ok(out)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // Hidden entries are not the app's (trunk's `.stage` while it builds).
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else if kind.is_file() {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Brotli at its best quality, gzip at level 9: made once per build, so time is cheap.
pub fn encode(coding: Coding, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    match coding {
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            };
            brotli::BrotliCompress(&mut &body[..], &mut out, &params)?;
        }
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
            encoder.write_all(body)?;
            encoder.finish()?;
        }
    }
    Ok(out)
}

fn write_atomically(target: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temp = PathBuf::from(format!("{}.tmp", target.display()));
    std::fs::write(&temp, bytes).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, target).with_context(|| format!("writing {}", target.display()))?;
    Ok(())
}

/// The table `sync-server precompress` prints.
pub fn table(files: &[Compressed]) -> String {
    let size = |n: Option<u64>| n.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let mut out = format!("{:<44} {:>10} {:>10} {:>10}\n", "file", "raw", "gzip", "br");
    for f in files {
        out.push_str(&format!(
            "{:<44} {:>10} {:>10} {:>10}\n",
            f.path.display(),
            f.raw,
            size(f.gzip),
            size(f.brotli)
        ));
    }
    out
}
