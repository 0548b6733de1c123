//! Indicator (IOC) values on their own: undoing and applying defanging, telling what kind of
//! value a responder typed, and the canonical form two indicators are compared by.
//!
//! These are pure string functions with no document behind them. Nothing here escapes
//! anything: a value such as `<img src=x onerror=alert(1)>` is kept exactly as typed, and the
//! UI is responsible for rendering values as text.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What an indicator value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    Domain,
    Hostname,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    FileName,
    Account,
    Other,
    /// A CVE id, `CVE-2024-3094`.
    Cve,
    /// A Windows registry key, `HKLM\Software\…` or `HKEY_LOCAL_MACHINE\…`.
    RegistryKey,
    /// A path to a file or folder whose last part is not a known file name:
    /// `C:\ProgramData\x`, `\\server\share`, `/usr/lib/.cache/kworker`.
    FilePath,
}

impl IndicatorKind {
    /// Every kind, in the order the page lists them and sorts indicators by (Other last).
    pub const ALL: [IndicatorKind; 15] = [
        IndicatorKind::Ipv4,
        IndicatorKind::Ipv6,
        IndicatorKind::Domain,
        IndicatorKind::Hostname,
        IndicatorKind::Url,
        IndicatorKind::Email,
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
        IndicatorKind::FileName,
        IndicatorKind::Account,
        IndicatorKind::FilePath,
        IndicatorKind::RegistryKey,
        IndicatorKind::Cve,
        IndicatorKind::Other,
    ];

    /// The value stored in the document.
    pub fn key(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Hostname => "hostname",
            IndicatorKind::Url => "url",
            IndicatorKind::Email => "email",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::FileName => "file_name",
            IndicatorKind::Account => "account",
            IndicatorKind::Other => "other",
            IndicatorKind::Cve => "cve",
            IndicatorKind::RegistryKey => "registry_key",
            IndicatorKind::FilePath => "file_path",
        }
    }

    /// The name shown to responders.
    pub fn label(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "IPv4",
            IndicatorKind::Ipv6 => "IPv6",
            IndicatorKind::Domain => "Domain",
            IndicatorKind::Hostname => "Host name",
            IndicatorKind::Url => "URL",
            IndicatorKind::Email => "Email",
            IndicatorKind::Md5 => "MD5",
            IndicatorKind::Sha1 => "SHA-1",
            IndicatorKind::Sha256 => "SHA-256",
            IndicatorKind::FileName => "File name",
            IndicatorKind::Account => "Account",
            IndicatorKind::Other => "Other",
            IndicatorKind::Cve => "CVE",
            IndicatorKind::RegistryKey => "Registry key",
            IndicatorKind::FilePath => "File path",
        }
    }

    /// The kind stored as `key`, if it is one of [`IndicatorKind::key`]'s values.
    pub fn from_key(key: &str) -> Option<IndicatorKind> {
        IndicatorKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

/// Defanged spellings and what they stand for. Matched without regard to ASCII case.
const DEFANGED: &[(&str, &str)] = &[
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("(dot)", "."),
    ("{dot}", "."),
    ("[@]", "@"),
    ("(@)", "@"),
    ("{@}", "@"),
    ("[at]", "@"),
    ("(at)", "@"),
    ("{at}", "@"),
    ("[:]", ":"),
    ("[://]", "://"),
    ("[/]", "/"),
];

/// Invisible characters that come along when values are copied out of web pages and chats.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// Undoes common defanging and strips what pasting drags along.
///
/// - Brackets: `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` become `.`; `[@]` `(@)` `{@}` `[at]`
///   `(at)` `{at}` become `@`; `[:]` becomes `:`, `[://]` becomes `://`, `[/]` becomes `/`
///   (all without regard to case, nested ones too: `[[.]]` becomes `.`).
/// - Schemes: `hxxp`/`hxxps` (any case of the x's) become `http`/`https`, `fxp` becomes `ftp`,
///   when followed by `://`. The t's take the case of the `p`; other letters keep theirs.
/// - Around the value: whitespace and zero-width characters, a matching pair of quotes
///   (`"` `'` `` ` `` and typographic ones), `<…>` around an address-looking value without
///   spaces, `[…]` around an IPv6 address, a `(` or `)` with no partner, and trailing `,` `;`
///   `.` are removed.
///
/// Spaced-out forms such as `evil . com` or `evil dot com` are deliberately *not* undone:
/// they are indistinguishable from prose. Everything else in the value is kept as typed;
/// nothing is escaped. The function is idempotent: `refang(&refang(x)) == refang(x)`.
pub fn refang(raw: &str) -> String {
    let mut current: String = raw.chars().filter(|c| !is_invisible(*c)).collect();
    // Every pass either changes nothing (and we stop) or makes the value shorter or turns an
    // `hxxp` prefix into `http`, which cannot happen twice without shortening in between.
    loop {
        let next = fix_scheme(undo_brackets(strip_wrapping(&current)));
        if next == current {
            return next;
        }
        current = next;
    }
}

/// Replaces every defanged spelling, nested ones included, in one pass: each character is
/// appended to the output and the output's end is reduced while it ends in a pattern.
fn undo_brackets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.push(c);
        'reduce: loop {
            for (pattern, plain) in DEFANGED {
                if ends_with_ignore_ascii_case(&out, pattern) {
                    out.truncate(out.len() - pattern.len());
                    out.push_str(plain);
                    continue 'reduce;
                }
            }
            break;
        }
    }
    out
}

fn ends_with_ignore_ascii_case(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len()
        && s.is_char_boundary(s.len() - suffix.len())
        && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

fn starts_with_ignore_ascii_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// `hxxp://`, `hxxps://`, `fxp://` (any case) back to `http://`, `https://`, `ftp://`.
fn fix_scheme(s: String) -> String {
    let (prefix, positions): (&str, &[usize]) = if starts_with_ignore_ascii_case(&s, "hxxp") {
        ("hxxp", &[1, 2])
    } else if starts_with_ignore_ascii_case(&s, "fxp") {
        ("fxp", &[1])
    } else {
        return s;
    };
    let rest = &s[prefix.len()..];
    if !(rest.starts_with("://") || starts_with_ignore_ascii_case(rest, "s://")) {
        return s;
    }
    // The t's take the case of the `p` that follows them: `hXXp` is `http`, `HXXP` is `HTTP`.
    let mut bytes = s.into_bytes();
    let t = if bytes[prefix.len() - 1].is_ascii_uppercase() {
        b'T'
    } else {
        b't'
    };
    for &i in positions {
        bytes[i] = t;
    }
    // Only ASCII letters were replaced by ASCII letters.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Removes what surrounds a pasted value, repeatedly, until nothing more comes off.
fn strip_wrapping(s: &str) -> &str {
    const QUOTES: [(char, char); 5] = [
        ('"', '"'),
        ('\'', '\''),
        ('`', '`'),
        ('\u{201C}', '\u{201D}'),
        ('\u{2018}', '\u{2019}'),
    ];
    let mut s = s;
    loop {
        let before = s;
        s = s.trim().trim_end_matches([',', ';', '.']);
        for (open, close) in QUOTES {
            if let Some(inner) = unwrap_pair(s, open, close) {
                s = inner;
            }
        }
        if let Some(inner) = unwrap_pair(s, '<', '>') {
            let address_like = inner.contains(['.', ':', '@']);
            let plain = !inner.contains(|c: char| c.is_whitespace() || c == '<' || c == '>');
            if address_like && plain {
                s = inner;
            }
        }
        if let Some(inner) = unwrap_pair(s, '[', ']') {
            if inner.parse::<Ipv6Addr>().is_ok() {
                s = inner;
            }
        }
        if !s.contains(')') {
            s = s.strip_prefix('(').unwrap_or(s);
        }
        if !s.contains('(') {
            s = s.strip_suffix(')').unwrap_or(s);
        }
        if s == before {
            return s;
        }
    }
}

fn unwrap_pair(s: &str, open: char, close: char) -> Option<&str> {
    s.strip_prefix(open)?.strip_suffix(close)
}

/// File extensions that make a value a file name rather than a domain. Some of them are also
/// top-level domains (`zip`, `mov`, `sh`, `py`, `one`): a value ending in one of those is taken to be
/// a file name, since that is far more common in incident notes; a responder can change the
/// kind of an indicator by hand.
const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "sys", "scr", "pif", "cpl", "msi", "msp", "msc", "ps1", "psm1", "bat", "cmd",
    "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta", "lnk", "jar", "apk", "dmg", "pkg", "deb",
    "rpm", "elf", "bin", "sh", "py", "php", "asp", "aspx", "jsp", "doc", "docx", "docm", "dotm",
    "xls", "xlsx", "xlsm", "xlsb", "xlam", "xll", "ppt", "pptx", "pptm", "rtf", "pdf", "one",
    "iqy", "slk", "html", "htm", "svg", "zip", "rar", "7z", "gz", "tgz", "tar", "cab", "iso",
    "img", "vhd", "vhdx", "mov",
];

/// Second-level public suffixes common enough to matter: `example.co.uk` is a registrable
/// domain, not a host in `co.uk`. This is not the full public suffix list.
const TWO_LABEL_SUFFIXES: &[&str] = &[
    "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "net.uk", "ltd.uk", "plc.uk", "com.au",
    "net.au", "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "govt.nz", "co.jp", "ne.jp",
    "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "com.br", "net.br", "org.br", "gov.br", "com.cn",
    "net.cn", "org.cn", "gov.cn", "com.hk", "com.tw", "com.sg", "com.my", "co.in", "net.in",
    "org.in", "gov.in", "co.id", "co.za", "org.za", "gov.za", "com.mx", "com.ar", "com.tr",
    "gov.tr", "co.il", "org.il", "com.ua", "com.pl", "com.ru", "com.vn", "com.ph", "com.pk",
    "com.ng", "com.eg", "com.sa",
];

/// Tells what kind of value an already refanged indicator is. Checked in this order:
///
/// 1. `Ipv4`: parses as an IPv4 address (four decimal parts, no leading zeros).
/// 2. `Ipv6`: parses as an IPv6 address, compressed forms included, with or without `[…]`.
/// 3. `Md5` / `Sha1` / `Sha256`: 32 / 40 / 64 hex digits.
/// 4. `Url`: `scheme://something` with no whitespace.
/// 5. `Cve`: `CVE-` (any case), a four-digit year, `-`, four or more digits.
/// 6. `RegistryKey`: a hive (`HKEY_LOCAL_MACHINE`, `HKEY_CURRENT_USER`, `HKEY_CLASSES_ROOT`,
///    `HKEY_USERS`, `HKEY_CURRENT_CONFIG` or their short forms `HKLM`, `HKCU`, `HKCR`, `HKU`,
///    `HKCC`; any case, PowerShell's `HKLM:` too), a backslash and at least one more part.
///    This comes before accounts, which `HKLM\Software` would otherwise look like.
/// 7. `Account`: `DOMAIN\user` (one backslash, a NetBIOS/DNS-like domain, a user that is not
///    a file name).
/// 8. `Email`: `local@domain` where the domain is a domain name as in 11 (`user@host` is
///    always an email, never an account).
/// 9. `FileName`: the last path component ends in a known extension (see the list above:
///    executables, scripts, documents, archives). This comes before domains, so
///    `invoice.exe` and `photos.zip` are file names. A path whose first part is a host name
///    (`evil.com/a.exe`) is not a file name.
/// 10. `FilePath`: any other absolute path — a drive path (`C:\Users\x`, `C:/Users/x`) with at
///     least one part after the drive, a UNC path (`\\server\share`), or a POSIX path of at
///     least two parts (`/tmp/x`; `/tmp` alone is not enough, and `//x` is not a path).
/// 11. `Domain` / `Hostname`: two or more dot-separated labels (letters, digits, `-`, `_`)
///     ending in an alphabetic top-level label of at least two letters (or `xn--…`). A name
///     under a suffix that only exists inside networks (`.local`, `.lan`, `.internal`,
///     `.corp`, `.home`, `.intranet`, `.localdomain`, `.home.arpa`) is a `Hostname`. Otherwise
///     a registrable name — two labels, or three under a common suffix such as `co.uk` — is a
///     `Domain`; anything longer (`mail.evil.com`) is a `Hostname`.
/// 12. `Other`: everything else. Single words (`WS-0231`, `mimikatz`, `localhost`) stay
///     `Other`: a bare host name cannot be told from a tool or malware name, so a responder
///     picks "Host name" by hand and the kind stays as picked.
pub fn detect(value: &str) -> IndicatorKind {
    let v = value.trim();
    if v.is_empty() {
        return IndicatorKind::Other;
    }
    if v.parse::<Ipv4Addr>().is_ok() {
        return IndicatorKind::Ipv4;
    }
    if parse_ipv6(v).is_some() {
        return IndicatorKind::Ipv6;
    }
    if v.bytes().all(|b| b.is_ascii_hexdigit()) {
        match v.len() {
            32 => return IndicatorKind::Md5,
            40 => return IndicatorKind::Sha1,
            64 => return IndicatorKind::Sha256,
            _ => {}
        }
    }
    if is_url(v) {
        return IndicatorKind::Url;
    }
    if is_cve(v) {
        return IndicatorKind::Cve;
    }
    if is_registry_key(v) {
        return IndicatorKind::RegistryKey;
    }
    if is_account(v) {
        return IndicatorKind::Account;
    }
    if is_email(v) {
        return IndicatorKind::Email;
    }
    if is_file_name(v) {
        return IndicatorKind::FileName;
    }
    if is_file_path(v) {
        return IndicatorKind::FilePath;
    }
    match domain_labels(v) {
        Some(labels) if is_internal(&labels) => IndicatorKind::Hostname,
        Some(labels) if labels.len() > registrable_len(&labels) => IndicatorKind::Hostname,
        Some(_) => IndicatorKind::Domain,
        None => IndicatorKind::Other,
    }
}

fn parse_ipv6(v: &str) -> Option<Ipv6Addr> {
    let inner = unwrap_pair(v, '[', ']').unwrap_or(v);
    inner.parse().ok()
}

/// Where the scheme ends, if `v` is `scheme://rest` with a plausible scheme.
fn url_scheme_end(v: &str) -> Option<usize> {
    let end = v.find("://")?;
    let scheme = &v[..end];
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then_some(end)
}

fn is_url(v: &str) -> bool {
    match url_scheme_end(v) {
        Some(end) => v.len() > end + 3 && !v.contains(char::is_whitespace),
        None => false,
    }
}

/// `CVE-YYYY-NNNN…`: the year and at least four digits of sequence number.
fn is_cve(v: &str) -> bool {
    if !starts_with_ignore_ascii_case(v, "CVE-") {
        return false;
    }
    let Some((year, number)) = v[4..].split_once('-') else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && digits(year) && number.len() >= 4 && number.len() <= 19 && digits(number)
}

/// The registry's root keys, long and short names.
const REGISTRY_HIVES: &[(&str, &str)] = &[
    ("HKEY_LOCAL_MACHINE", "HKLM"),
    ("HKEY_CURRENT_USER", "HKCU"),
    ("HKEY_CLASSES_ROOT", "HKCR"),
    ("HKEY_USERS", "HKU"),
    ("HKEY_CURRENT_CONFIG", "HKCC"),
];

/// The registry key with its hive written out in full (`HKLM\x` → `HKEY_LOCAL_MACHINE\x`,
/// `HKLM:\x` too), or `None` when `v` does not start with a hive, a backslash and more.
pub fn full_registry_key(v: &str) -> Option<String> {
    let (hive, rest) = v.split_once('\\')?;
    let hive = hive.strip_suffix(':').unwrap_or(hive);
    let (long, _) = REGISTRY_HIVES.iter().find(|(long, short)| {
        hive.eq_ignore_ascii_case(long) || hive.eq_ignore_ascii_case(short)
    })?;
    let rest = rest.trim_end_matches('\\');
    let ok = !rest.is_empty() && !rest.contains(|c: char| c.is_control());
    ok.then(|| format!("{long}\\{rest}"))
}

fn is_registry_key(v: &str) -> bool {
    full_registry_key(v).is_some()
}

/// An absolute path: `C:\x` (or `C:/x`), `\\server\share`, `/a/b`.
fn is_file_path(v: &str) -> bool {
    if v.contains(|c: char| c.is_control() || matches!(c, '<' | '>' | '|' | '"' | '*' | '?')) {
        return false;
    }
    let parts = |rest: &str, separators: &[char]| -> usize {
        rest.split(separators)
            .filter(|p| !p.trim().is_empty())
            .count()
    };
    let bytes = v.as_bytes();
    if bytes.len() > 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/')
    {
        return parts(&v[3..], &['\\', '/']) >= 1;
    }
    if let Some(rest) = v.strip_prefix("\\\\") {
        let mut pieces = rest.split('\\');
        let server = pieces.next().unwrap_or("");
        let share = pieces.next().unwrap_or("");
        return !server.trim().is_empty()
            && !server.contains(['/', ':'])
            && !share.trim().is_empty();
    }
    if let Some(rest) = v.strip_prefix('/') {
        return !rest.starts_with('/') && !v.contains('\\') && parts(rest, &['/']) >= 2;
    }
    false
}

/// Top-level names that only exist inside networks; a name under one is a host.
const INTERNAL_SUFFIXES: &[&str] = &[
    "local",
    "lan",
    "internal",
    "corp",
    "home",
    "intranet",
    "localdomain",
];

fn is_internal(labels: &[&str]) -> bool {
    let last = labels[labels.len() - 1];
    let home_arpa = labels.len() >= 3
        && last.eq_ignore_ascii_case("arpa")
        && labels[labels.len() - 2].eq_ignore_ascii_case("home");
    home_arpa
        || INTERNAL_SUFFIXES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(last))
}

fn is_account(v: &str) -> bool {
    let Some((domain, user)) = v.split_once('\\') else {
        return false;
    };
    let domain_ok = !domain.is_empty()
        && domain.len() <= 64
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let user_ok = !user.is_empty()
        && !user.contains(|c: char| c.is_whitespace() || matches!(c, '\\' | '/' | ':' | '@'))
        && !has_file_extension(user);
    domain_ok && user_ok
}

fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '<' | '>' | '(' | ')' | '[' | ']' | '\\' | ',' | ';' | ':' | '"'
                )
        });
    local_ok && domain_labels(domain).is_some()
}

fn is_file_name(v: &str) -> bool {
    if let Some((first, _)) = v.split_once('/') {
        if domain_labels(first).is_some() || first.parse::<Ipv4Addr>().is_ok() {
            return false;
        }
    }
    let name = v.rsplit(['/', '\\']).next().unwrap_or(v);
    has_file_extension(name)
}

fn has_file_extension(name: &str) -> bool {
    match name.rsplit_once('.') {
        Some((base, ext)) => {
            !base.is_empty() && FILE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
        }
        None => false,
    }
}

/// The labels of `v` if it is a domain name with at least two labels.
fn domain_labels(v: &str) -> Option<Vec<&str>> {
    let v = v.strip_suffix('.').unwrap_or(v);
    if v.len() > 253 {
        return None;
    }
    let labels: Vec<&str> = v.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    };
    if !labels.iter().all(label_ok) {
        return None;
    }
    let tld = labels[labels.len() - 1];
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || (starts_with_ignore_ascii_case(tld, "xn--") && tld.len() > 4);
    tld_ok.then_some(labels)
}

/// How many labels the registrable part of a domain name has: 3 under a listed two-label
/// suffix, 2 otherwise.
fn registrable_len(labels: &[&str]) -> usize {
    if labels.len() >= 2 {
        let suffix = format!("{}.{}", labels[labels.len() - 2], labels[labels.len() - 1]);
        if TWO_LABEL_SUFFIXES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&suffix))
        {
            return 3;
        }
    }
    2
}

/// The value as it is shown, so nobody clicks it or has it auto-linked by accident:
///
/// - `Url`: `http`/`https` become `hxxp`/`hxxps`, `ftp` becomes `fxp`, dots in the host part
///   become `[.]`; the path is unchanged.
/// - `Domain`, `Hostname`, `Ipv4`: every `.` becomes `[.]` (an internal host such as
///   `ws01.corp.local` too: chat tools link those as well; a one-word host has no dot and
///   stays as it is).
/// - `Ipv6`: every `:` becomes `[:]`.
/// - `Email`: `@` becomes `[@]`, dots after it become `[.]`.
/// - hashes, file names and paths, registry keys, CVE ids, accounts, other: unchanged.
///
/// [`refang`] undoes it: `refang(&defang(v, detect(v))) == v` for every `v` that `refang`
/// leaves unchanged (for URLs: whose scheme's t's are in the case of its p, as in `http`,
/// `HTTP`, `Https`).
pub fn defang(value: &str, kind: IndicatorKind) -> String {
    match kind {
        IndicatorKind::Url => defang_url(value),
        IndicatorKind::Domain | IndicatorKind::Hostname | IndicatorKind::Ipv4 => {
            value.replace('.', "[.]")
        }
        IndicatorKind::Ipv6 => value.replace(':', "[:]"),
        IndicatorKind::Email => match value.split_once('@') {
            Some((local, domain)) => format!("{local}[@]{}", domain.replace('.', "[.]")),
            None => value.to_string(),
        },
        IndicatorKind::Md5
        | IndicatorKind::Sha1
        | IndicatorKind::Sha256
        | IndicatorKind::FileName
        | IndicatorKind::FilePath
        | IndicatorKind::RegistryKey
        | IndicatorKind::Cve
        | IndicatorKind::Account
        | IndicatorKind::Other => value.to_string(),
    }
}

/// Splits `scheme://authority/rest` into its three parts (the `://` and the separator before
/// `rest` are not part of any).
fn split_url(value: &str) -> Option<(&str, &str, &str)> {
    let end = url_scheme_end(value)?;
    let scheme = &value[..end];
    let after = &value[end + 3..];
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some((scheme, &after[..authority_end], &after[authority_end..]))
}

fn defang_url(value: &str) -> String {
    let Some((scheme, authority, rest)) = split_url(value) else {
        return value.to_string();
    };
    let mut scheme = scheme.to_string();
    let lower = scheme.to_ascii_lowercase();
    let positions: &[usize] = match lower.as_str() {
        "http" | "https" => &[1, 2],
        "ftp" | "ftps" => &[1],
        _ => &[],
    };
    if !positions.is_empty() {
        let mut bytes = scheme.into_bytes();
        for &i in positions {
            bytes[i] = if bytes[i].is_ascii_uppercase() {
                b'X'
            } else {
                b'x'
            };
        }
        scheme = String::from_utf8(bytes).unwrap_or_default();
    }
    format!("{scheme}://{}{rest}", authority.replace('.', "[.]"))
}

/// The value two indicators are compared by: refanged and trimmed, then
///
/// - `Domain`, `Hostname`: lowercase, without a trailing dot;
/// - `Email`, `Md5`, `Sha1`, `Sha256`: lowercase;
/// - `Cve`: uppercase;
/// - `RegistryKey`: without a trailing backslash (the hive as typed);
/// - `Ipv4`, `Ipv6`: the standard text form of the parsed address (IPv6 compressed,
///   lowercase, without brackets);
/// - `Url`: scheme and host lowercase, user info, port, path, query and fragment as typed;
/// - others as typed.
///
/// A value that does not fit the kind it is given (say an `Ipv4` that does not parse) is
/// handled as well as possible and never refused.
pub fn canonical(value: &str, kind: IndicatorKind) -> String {
    let v = refang(value);
    match kind {
        IndicatorKind::Domain | IndicatorKind::Hostname => {
            let v = v.to_lowercase();
            v.strip_suffix('.').map(str::to_string).unwrap_or(v)
        }
        IndicatorKind::Email | IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => {
            v.to_lowercase()
        }
        IndicatorKind::Ipv4 => match v.parse::<Ipv4Addr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => v,
        },
        IndicatorKind::Ipv6 => match parse_ipv6(&v) {
            Some(ip) => ip.to_string(),
            None => v.to_lowercase(),
        },
        IndicatorKind::Url => canonical_url(&v),
        IndicatorKind::Cve => v.to_ascii_uppercase(),
        IndicatorKind::RegistryKey => match v.strip_suffix('\\') {
            Some(trimmed) if is_registry_key(trimmed) => trimmed.to_string(),
            _ => v,
        },
        IndicatorKind::FileName
        | IndicatorKind::FilePath
        | IndicatorKind::Account
        | IndicatorKind::Other => v,
    }
}

fn canonical_url(v: &str) -> String {
    let Some((scheme, authority, rest)) = split_url(v) else {
        return v.to_string();
    };
    let (user_info, host) = match authority.rsplit_once('@') {
        Some((user_info, host)) => (Some(user_info), host),
        None => (None, authority),
    };
    let mut out = scheme.to_ascii_lowercase();
    out.push_str("://");
    if let Some(user_info) = user_info {
        out.push_str(user_info);
        out.push('@');
    }
    out.push_str(&host.to_lowercase());
    out.push_str(rest);
    out
}

/// One indicator found in a paste.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedIndicator {
    /// The canonical value (see [`canonical`]).
    pub value: String,
    pub kind: IndicatorKind,
}

/// Reads a bulk paste of indicators.
///
/// Lines that are blank or start with `#` are skipped, and a word starting with `#` ends its
/// line (a trailing comment). Entries are separated by line breaks, whitespace, `,` and `;`
/// — except that a piece after a `,` or `;` that follows a URL and would on its own be
/// `Other` is kept as part of the URL (`http://x.example/a?ids=1,2`). Values cannot contain
/// spaces in a paste, so a file name with spaces has to be added on its own.
///
/// Every entry is refanged, typed with [`detect`] and canonicalized; an entry whose
/// canonical value already came earlier in the paste is left out, so the result keeps the
/// order of first appearance.
pub fn parse_bulk(text: &str) -> Vec<ParsedIndicator> {
    let mut found: Vec<ParsedIndicator> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        for word in line.split_whitespace() {
            if word.starts_with('#') {
                break;
            }
            for entry in split_entries(word) {
                let real = refang(&entry);
                if real.is_empty() {
                    continue;
                }
                let kind = detect(&real);
                let value = canonical(&real, kind);
                if seen.insert(value.clone()) {
                    found.push(ParsedIndicator { value, kind });
                }
            }
        }
    }
    found
}

/// Splits one whitespace-free word on `,` and `;`, gluing back pieces that belong to a URL.
fn split_entries(word: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    // Whether the last entry is a URL; gluing more onto a URL leaves it one.
    let mut last_is_url = false;
    let mut separator_before: Option<char> = None;
    let mut rest = word;
    loop {
        let (piece, next) = match rest.find([',', ';']) {
            Some(i) => (&rest[..i], Some((&rest[i..i + 1], &rest[i + 1..]))),
            None => (rest, None),
        };
        match (entries.last_mut(), separator_before) {
            (Some(last), Some(separator))
                if last_is_url && detect(&refang(piece)) == IndicatorKind::Other =>
            {
                last.push(separator);
                last.push_str(piece);
            }
            _ => {
                last_is_url = is_url(&refang(piece));
                entries.push(piece.to_string());
            }
        }
        match next {
            Some((separator, after)) => {
                separator_before = separator.chars().next();
                rest = after;
            }
            None => return entries,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IndicatorKind::*;

    #[test]
    fn keys_and_labels_round_trip() {
        for kind in IndicatorKind::ALL {
            assert_eq!(IndicatorKind::from_key(kind.key()), Some(kind));
            assert!(!kind.label().is_empty());
        }
        assert_eq!(IndicatorKind::from_key("file_name"), Some(FileName));
        assert_eq!(IndicatorKind::from_key("nope"), None);
        assert_eq!(Sha1.label(), "SHA-1");
        assert_eq!(Hostname.label(), "Host name");
    }

    #[test]
    fn every_kind_is_detected() {
        let cases = [
            ("10.0.0.1", Ipv4),
            ("192.168.1.254", Ipv4),
            ("2001:db8::1", Ipv6),
            ("[2001:db8::1]", Ipv6),
            ("::1", Ipv6),
            ("fe80:0:0:0:0:0:0:1", Ipv6),
            ("example.com", Domain),
            ("Example.COM", Domain),
            ("example.co.uk", Domain),
            ("evil.example.com", Hostname),
            ("mail.example.co.uk", Hostname),
            ("xn--80ak6aa92e.com", Domain),
            ("https://evil.example.com/a?b=c", Url),
            ("ftp://10.0.0.1/x", Url),
            ("jdoe@corp.example.com", Email),
            ("d41d8cd98f00b204e9800998ecf8427e", Md5),
            ("DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", Sha1),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Sha256,
            ),
            ("invoice.exe", FileName),
            ("Invoice.PDF.exe", FileName),
            ("photos.zip", FileName),
            ("C:\\Users\\Public\\evil.ps1", FileName),
            ("/tmp/.x/miner.sh", FileName),
            ("CORP\\jdoe", Account),
            ("CORP\\DC01$", Account),
            ("mimikatz", Other),
            ("localhost", Other),
            ("10.0.0.256", Other),
            ("1.2.3", Other),
            ("evil.example.com/payload.exe", Other),
            ("", Other),
        ];
        for (value, kind) in cases {
            assert_eq!(detect(value), kind, "{value}");
        }
    }

    #[test]
    fn refang_undoes_common_styles() {
        let cases = [
            (
                "hxxps://evil[.]example[.]com/a",
                "https://evil.example.com/a",
            ),
            ("hXXp://evil[.]com", "http://evil.com"),
            ("HXXPS://EVIL[.]COM", "HTTPS://EVIL.COM"),
            ("hxxp[://]evil[dot]com", "http://evil.com"),
            ("http[:]//evil{.}com[/]x", "http://evil.com/x"),
            ("fxp://files[.]example[.]net", "ftp://files.example.net"),
            ("evil(.)com", "evil.com"),
            ("evil(DOT)com", "evil.com"),
            ("evil[[.]]com", "evil.com"),
            ("user[@]corp[.]com", "user@corp.com"),
            ("user(at)corp(.)com", "user@corp.com"),
            ("user[at]corp[dot]com", "user@corp.com"),
            ("10[.]0[.]0[.]1", "10.0.0.1"),
            ("2001:db8[:]:1", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("  \"evil.com\", ", "evil.com"),
            ("'evil[.]com';", "evil.com"),
            ("<http://evil.com/x>", "http://evil.com/x"),
            ("(evil.com", "evil.com"),
            ("evil.com).", "evil.com"),
            ("\u{201C}evil.com\u{201D}", "evil.com"),
            ("evil\u{200B}.com", "evil.com"),
            (
                "http://en.example.org/wiki/A_(b)",
                "http://en.example.org/wiki/A_(b)",
            ),
            ("hxxpx://evil.com", "hxxpx://evil.com"),
        ];
        for (raw, real) in cases {
            assert_eq!(refang(raw), real, "{raw}");
        }
    }

    #[test]
    fn refang_is_idempotent() {
        let samples = [
            "hxxps://evil[.]example[.]com/a",
            "[[[.]]]",
            "\"'<evil[.]com>'\"",
            "[2001:db8[:]:1]",
            "hxxp[[:]//]x",
            "evil.com...,;",
            "<img src=x onerror=alert(1)>",
            "  ",
        ];
        for raw in samples {
            let once = refang(raw);
            assert_eq!(refang(&once), once, "{raw}");
        }
    }

    #[test]
    fn defang_then_refang_gives_the_value_back_for_every_kind() {
        let values = [
            "10.0.0.1",
            "2001:db8::1",
            "::ffff:10.0.0.1",
            "example.com",
            "evil.example.com",
            "https://evil.example.com:8443/a.b/c?d=e.f#g",
            "HTTP://Evil.Example.com/",
            "Https://evil.example.com/x",
            "ftp://files.example.net/x.zip",
            "ssh://git.example.com",
            "j.doe@corp.example.com",
            "d41d8cd98f00b204e9800998ecf8427e",
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "invoice.pdf.exe",
            "CORP\\jdoe",
            "CVE-2024-3094",
            "HKLM\\Software\\Run",
            "C:\\ProgramData\\x",
            "mimikatz",
        ];
        let mut kinds_seen = Vec::new();
        for value in values {
            let kind = detect(value);
            kinds_seen.push(kind);
            assert_eq!(refang(value), value, "{value} should already be refanged");
            let shown = defang(value, kind);
            assert_eq!(refang(&shown), value, "{value} shown as {shown}");
        }
        for kind in IndicatorKind::ALL {
            assert!(kinds_seen.contains(&kind), "no sample for {kind:?}");
        }
    }

    #[test]
    fn defang_shows_the_usual_forms() {
        assert_eq!(
            defang("https://evil.example.com/a.php", Url),
            "hxxps://evil[.]example[.]com/a.php"
        );
        assert_eq!(defang("evil.example.com", Hostname), "evil[.]example[.]com");
        assert_eq!(defang("10.0.0.1", Ipv4), "10[.]0[.]0[.]1");
        assert_eq!(defang("2001:db8::1", Ipv6), "2001[:]db8[:][:]1");
        assert_eq!(
            defang("j.doe@corp.example.com", Email),
            "j.doe[@]corp[.]example[.]com"
        );
        assert_eq!(defang("invoice.exe", FileName), "invoice.exe");
    }

    #[test]
    fn canonical_values_dedupe_spellings() {
        assert_eq!(
            canonical("EVIL.example.com", Hostname),
            canonical("evil[.]example[.]com", Hostname)
        );
        assert_eq!(canonical("EVIL.example.com", Hostname), "evil.example.com");
        assert_eq!(canonical("evil.com.", Domain), "evil.com");
        assert_eq!(canonical("2001:DB8:0:0:0:0:0:1", Ipv6), "2001:db8::1");
        assert_eq!(canonical("[2001:db8::1]", Ipv6), "2001:db8::1");
        assert_eq!(canonical("10[.]0[.]0[.]1", Ipv4), "10.0.0.1");
        assert_eq!(
            canonical("D41D8CD98F00B204E9800998ECF8427E", Md5),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(canonical("JDoe[@]Corp.com", Email), "jdoe@corp.com");
        assert_eq!(
            canonical("HXXPS://Admin@EVIL.Example.com:8443/Path/A.PHP?Q=1", Url),
            "https://Admin@evil.example.com:8443/Path/A.PHP?Q=1"
        );
        assert_eq!(canonical("Invoice.EXE", FileName), "Invoice.EXE");
        assert_eq!(canonical("CORP\\JDoe", Account), "CORP\\JDoe");
        // A value that does not fit the kind it was given is kept, not refused.
        assert_eq!(canonical("not an ip", Ipv4), "not an ip");
        for value in ["EVIL.example.com", "HXXP://A.B/C", "2001:DB8::1"] {
            let kind = detect(&refang(value));
            let once = canonical(value, kind);
            assert_eq!(canonical(&once, kind), once);
        }
    }

    #[test]
    fn bulk_paste_skips_comments_and_blank_lines_and_dedupes() {
        let text = "# IOCs from the EDR export\r\n\
                    \n\
                    evil[.]example[.]com\n\
                    EVIL.example.com   # same host, other spelling\n\
                    10[.]0[.]0[.]1, 10.0.0.1; 192.168.0.7\n\
                    \t\n\
                    hxxps://evil[.]example[.]com/a?ids=1,2;x=3\n\
                    d41d8cd98f00b204e9800998ecf8427e D41D8CD98F00B204E9800998ECF8427E\n\
                    invoice.exe,user[@]corp[.]com\n\
                    #10.9.9.9\n";
        let parsed = parse_bulk(text);
        let got: Vec<(&str, IndicatorKind)> =
            parsed.iter().map(|p| (p.value.as_str(), p.kind)).collect();
        assert_eq!(
            got,
            [
                ("evil.example.com", Hostname),
                ("10.0.0.1", Ipv4),
                ("192.168.0.7", Ipv4),
                ("https://evil.example.com/a?ids=1,2;x=3", Url),
                ("d41d8cd98f00b204e9800998ecf8427e", Md5),
                ("invoice.exe", FileName),
                ("user@corp.com", Email),
            ]
        );
        assert!(parse_bulk("").is_empty());
        assert!(parse_bulk("\n  \n# only a comment\n,;,").is_empty());
    }

    #[test]
    fn bulk_paste_splits_urls_from_following_indicators() {
        let parsed = parse_bulk("http://a.example/x,evil.com;10.0.0.1");
        let values: Vec<&str> = parsed.iter().map(|p| p.value.as_str()).collect();
        assert_eq!(values, ["http://a.example/x", "evil.com", "10.0.0.1"]);
    }

    #[test]
    fn hostile_values_are_kept_as_typed() {
        let hostile = "<img src=x onerror=alert(1)>";
        assert_eq!(refang(hostile), hostile);
        assert_eq!(detect(hostile), Other);
        assert_eq!(canonical(hostile, Other), hostile);
        assert_eq!(defang(hostile, Other), hostile);
        let script = "<script>alert('x')</script>";
        assert_eq!(refang(script), script);
        assert_eq!(detect(script), Other);
    }
}
