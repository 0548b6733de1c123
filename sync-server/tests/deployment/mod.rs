//! Shared by the PostgreSQL and multi-relay tests (`postgres.rs`, `multi_writer.rs`,
//! `pg_down.rs`, `failover.rs`, `cluster.rs`): a private PostgreSQL (Debian's, started by the
//! test on a free 127.0.0.1 port with a temporary data directory, stopped when dropped) that a
//! test may stop and start again, and a private HAProxy running `deploy/haproxy.cfg`, the file
//! the README shows, with only its addresses filled in.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

/// A free 127.0.0.1 port (free when asked; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where `initdb` and `pg_ctl` are: on PATH, else Debian's place for them (the newest).
fn tool(name: &str) -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(path) = on_path.filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|p| p.is_file());
    versions.sort_by_key(|p| {
        p.components()
            .nth(3)
            .and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    versions.pop().unwrap_or_else(|| {
        panic!("no {name}: install PostgreSQL (scripts/setup.sh installs Debian's postgresql)")
    })
}

/// Runs `program args` as the `postgres` user when this is root, as this user otherwise.
fn run_as_owner(program: &Path, args: &[&str]) -> std::process::Output {
    let root = unsafe { libc::geteuid() } == 0;
    let mut command = if root {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or("runuser");
        let mut c = Command::new(runuser);
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()))
}

/// A private PostgreSQL instance; stopped (`pg_ctl stop -m immediate`) when dropped.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Postgres {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let owner = Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .unwrap();
            let uid: u32 = String::from_utf8_lossy(&owner.stdout)
                .trim()
                .parse()
                .expect("running as root needs a `postgres` user (Debian's postgresql makes it)");
            std::os::unix::fs::chown(dir.path(), Some(uid), None).unwrap();
        }
        let data = dir.path().join("data");
        let out = run_as_owner(
            &tool("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "firebreak",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = Postgres {
            dir,
            port: free_port(),
        };
        pg.start_again();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_str().unwrap().to_owned()
    }

    /// Starts the instance (again, after [`Postgres::stop_fast`]) on the same port and data.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        let out = run_as_owner(
            &tool("pg_ctl"),
            &[
                "-D",
                &self.data(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `pg_ctl stop -m fast`: sessions are ended, what was committed stays.
    pub fn stop_fast(&self) {
        let out = run_as_owner(
            &tool("pg_ctl"),
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://firebreak@127.0.0.1:{}/{database}", self.port)
    }

    /// A new, empty database; its URL.
    pub fn database(&self, name: &str) -> String {
        let admin_url = self.url("postgres");
        let name_owned = name.to_owned();
        off_runtime(move || {
            let name = name_owned;
            Client::connect(&admin_url, NoTls)
                .unwrap()
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap();
        });
        self.url(name)
    }

    /// One number a query answers (`SELECT COUNT(*) …`, `SELECT xact_commit …`).
    pub fn number(&self, database: &str, sql: &str) -> i64 {
        let url = self.url(database);
        let sql = sql.to_owned();
        off_runtime(move || {
            Client::connect(&url, NoTls)
                .unwrap()
                .query_one(sql.as_str(), &[])
                .unwrap()
                .get(0)
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        run_as_owner(
            &tool("pg_ctl"),
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// Runs `f` on a thread of its own: the `postgres` client cannot run inside an async test's
/// runtime.
pub fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

/// `sync-server verify --database-url URL`: (exit code, what it printed).
pub fn verify(url: &str) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sync-server"))
        .args(["verify", "--database-url", url])
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The HAProxy config the README shows.
pub fn haproxy_config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/haproxy.cfg")
}

/// Replaces `from` (which must be in `text` exactly once) by `to`.
fn fill(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "deploy/haproxy.cfg: expected {from:?} once; update tests/deployment/mod.rs"
    );
    text.replacen(from, to, 1)
}

/// The nginx site with an upstream block the README shows.
pub fn nginx_config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx-relays.conf")
}

/// A private nginx (Debian's, `/usr/sbin/nginx`) in front of relays; killed when dropped.
pub struct Nginx {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Runs `deploy/nginx-relays.conf` with its listening address and the three relays'
    /// addresses filled in, everything nginx writes in a temporary directory. The test speaks
    /// plain HTTP to it: the `listen` line loses `ssl` and the certificate lines go.
    pub fn start(relays: [&str; 3]) -> Nginx {
        let port = free_port();
        let mut site = std::fs::read_to_string(nginx_config_path()).unwrap();
        site = fill(
            &site,
            "listen 443 ssl;",
            &format!("listen 127.0.0.1:{port};"),
        );
        site = fill(&site, "ssl_certificate     /etc/ssl/firebreak.crt;", "");
        site = fill(&site, "ssl_certificate_key /etc/ssl/firebreak.key;", "");
        for (i, addr) in relays.iter().enumerate() {
            site = fill(&site, &format!("10.0.0.1{}:8787", i + 1), addr);
        }
        let dir = tempfile::tempdir().unwrap();
        // Workers run as another user (nobody) when started as root: let them in.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("site.conf"), site).unwrap();
        std::fs::create_dir(dir.path().join("temp")).unwrap();
        let main = format!(
            "daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
             events {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n\
             client_body_temp_path {d}/temp/body;\n  proxy_temp_path {d}/temp/proxy;\n\
             fastcgi_temp_path {d}/temp/fastcgi;\n  uwsgi_temp_path {d}/temp/uwsgi;\n\
             scgi_temp_path {d}/temp/scgi;\n  include {d}/site.conf;\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(format!("{d}/"))
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts (scripts/setup.sh installs Debian's nginx)");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private HAProxy in front of relays; killed when dropped.
pub struct HaProxy {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl HaProxy {
    /// Runs `deploy/haproxy.cfg` with its listening address and the three relays' addresses
    /// filled in. The test speaks plain HTTP to it: the `bind` line loses its certificate.
    pub fn start(relays: [&str; 3]) -> HaProxy {
        let port = free_port();
        let mut config = std::fs::read_to_string(haproxy_config_path()).unwrap();
        config = fill(
            &config,
            "bind :443 ssl crt /etc/haproxy/firebreak.pem",
            &format!("bind 127.0.0.1:{port}"),
        );
        for (i, addr) in relays.iter().enumerate() {
            config = fill(&config, &format!("10.0.0.1{}:8787", i + 1), addr);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let child = Command::new("/usr/sbin/haproxy")
            .arg("-f")
            .arg(&path)
            .arg("-db")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("haproxy starts (scripts/setup.sh installs Debian's haproxy)");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "haproxy did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        HaProxy {
            child,
            addr,
            _dir: dir,
        }
    }
}

impl Drop for HaProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
