//! A QR code of an invite link, drawn as inline SVG: one path of dark modules, so a phone
//! next to the laptop joins by scanning it. The `qrcode` crate only encodes (no renderer).

use leptos::prelude::*;
use qrcode::{Color, EcLevel, QrCode};

/// Modules of light margin around the code (the standard's quiet zone).
const QUIET: usize = 4;

/// The SVG path of the dark modules, one `h` run per stretch of a row, and the code's width
/// in modules; `None` when the text is too long for any QR code.
fn dark_path(text: &str) -> Option<(String, usize)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let mut path = String::with_capacity(width * width);
    for (y, row) in colors.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if row[x] != Color::Dark {
                x += 1;
                continue;
            }
            let start = x;
            while x < width && row[x] == Color::Dark {
                x += 1;
            }
            path.push_str(&format!("M{start} {y}h{}v1H{start}z", x - start));
        }
    }
    Some((path, width))
}

/// The QR code of `text`; `label` is what a screen reader says for it.
#[component]
pub fn QrCodeSvg(text: String, label: String) -> impl IntoView {
    let Some((path, width)) = dark_path(&text) else {
        return view! { <p class="hint">"This link is too long for a QR code; copy it instead."</p> }
            .into_any();
    };
    let side = width + 2 * QUIET;
    let view_box = format!("-{QUIET} -{QUIET} {side} {side}");
    view! {
        <svg
            class="qr-code"
            xmlns="http://www.w3.org/2000/svg"
            viewBox=view_box
            role="img"
            aria-label=label
            shape-rendering="crispEdges"
        >
            <rect
                x=format!("-{QUIET}")
                y=format!("-{QUIET}")
                width=side.to_string()
                height=side.to_string()
                fill="#fff"
            />
            <path d=path fill="#000"/>
        </svg>
    }
    .into_any()
}
