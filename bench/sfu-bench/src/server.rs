//! The servers under test as child processes: started pinned to a core (with `taskset`), read
//! from /proc for CPU time and resident memory, killed when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Relay,
    Janus,
    Helsebro,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Relay => "raw UDP relay",
            Kind::Janus => "Janus 1.1 VideoRoom",
            Kind::Helsebro => "Helsebro SFU",
        }
    }
}

pub struct Server {
    pub kind: Kind,
    child: Child,
    pub udp: SocketAddr,
    pub signal: SocketAddr,
    janus_port: u16,
    _dir: Option<TempDir>,
}

/// What a client thread needs to reach a server (sendable to another thread).
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: Kind,
    pub udp: SocketAddr,
    pub signal: SocketAddr,
    pub janus_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn janus_available() -> bool {
    Command::new("janus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn command(cores: Option<&str>, program: &str) -> Command {
    match cores {
        Some(c) => {
            let mut cmd = Command::new("taskset");
            cmd.arg("-c").arg(c).arg(program);
            cmd
        }
        None => Command::new(program),
    }
}

fn sibling(name: &str) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or_else(|| anyhow::anyhow!("no folder for {}", exe.display()))?;
    Ok(dir.join(name).to_string_lossy().into_owned())
}

impl Server {
    /// Starts `kind` pinned to `cores` (a `taskset` CPU list such as `1` or `1-4`); Helsebro
    /// with `workers` media workers.
    pub async fn start(kind: Kind, cores: Option<&str>, workers: usize) -> anyhow::Result<Server> {
        match kind {
            Kind::Relay | Kind::Helsebro => {
                let bin = sibling(match kind {
                    Kind::Relay => "udp-relay",
                    _ => "helsebro-sfu-server",
                })?;
                // BENCH_HELSEBRO_WRAPPER (scripts/sfu-profile.sh, profiling only): a program
                // that runs the server, given its path (e.g. under heaptrack). The CPU and
                // memory read from /proc are then the wrapper's, not the server's.
                let wrapper = match kind {
                    Kind::Helsebro => std::env::var("BENCH_HELSEBRO_WRAPPER").ok(),
                    _ => None,
                };
                let mut cmd = match &wrapper {
                    Some(w) => {
                        let mut c = command(cores, w);
                        c.arg(&bin);
                        c
                    }
                    None => command(cores, &bin),
                };
                let mut child = cmd
                    .env("BENCH_WORKERS", workers.to_string())
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()?;
                let stdout = child
                    .stdout
                    .take()
                    .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
                let line = tokio::task::spawn_blocking(move || {
                    let mut line = String::new();
                    let mut rd = BufReader::new(stdout);
                    let _ = rd.read_line(&mut line);
                    // Keep draining so that the server never blocks on a full pipe.
                    std::thread::spawn(move || {
                        let mut sink = String::new();
                        while rd.read_line(&mut sink).is_ok_and(|n| n > 0) {
                            sink.clear();
                        }
                    });
                    line
                })
                .await?;
                let parts: Vec<&str> = line.split_whitespace().collect();
                if parts.first() != Some(&"ready") || parts.len() < 2 {
                    anyhow::bail!("{bin} did not start: {line:?}");
                }
                let udp: SocketAddr = parts[1].parse()?;
                let signal: SocketAddr = parts.get(2).unwrap_or(&parts[1]).parse()?;
                Ok(Server {
                    kind,
                    child,
                    udp,
                    signal,
                    janus_port: 0,
                    _dir: None,
                })
            }
            Kind::Janus => start_janus(cores).await,
        }
    }

    pub fn target(&self) -> Target {
        Target {
            kind: self.kind,
            udp: self.udp,
            signal: self.signal,
            janus_url: self.janus_url(),
        }
    }

    pub fn janus_url(&self) -> String {
        format!("http://127.0.0.1:{}/janus", self.janus_port)
    }

    /// The process's user + system CPU time (all threads), seconds.
    pub fn cpu_s(&self) -> f64 {
        proc_cpu_s(&format!("/proc/{}/stat", self.pid()))
    }

    /// VmRSS, KiB.
    pub fn rss_kb(&self) -> u64 {
        self.status_kb("VmRSS:")
    }

    /// RssAnon, KiB: the process's private memory (heap, stacks), without the pages of its
    /// program and libraries (RssFile), which are read in once as code runs the first time
    /// and are shared with every other process that maps them.
    pub fn anon_kb(&self) -> u64 {
        self.status_kb("RssAnon:")
    }

    fn status_kb(&self, field: &str) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The server's pid (under `taskset`, which execs, the same process).
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// This process's CPU time, seconds.
pub fn self_cpu_s() -> f64 {
    proc_cpu_s("/proc/self/stat")
}

fn proc_cpu_s(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ") state".
    let ticks: u64 = [11usize, 12]
        .iter()
        .filter_map(|&i| f.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    ticks as f64 / if hz > 0 { hz as f64 } else { 100.0 }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Janus with only VideoRoom and the HTTP transport, ICE-lite, host candidates on loopback.
async fn start_janus(cores: Option<&str>) -> anyhow::Result<Server> {
    // BENCH_JANUS_LIB: the folder of a bundled Janus (scripts/bench-bundle.sh).
    let bundled = std::env::var("BENCH_JANUS_LIB").ok();
    let lib = bundled
        .iter()
        .map(String::as_str)
        .chain([
            "/usr/lib/x86_64-linux-gnu/janus",
            "/usr/lib/aarch64-linux-gnu/janus",
            "/usr/lib/janus",
        ])
        .find(|p| std::path::Path::new(p).join("plugins").exists())
        .ok_or_else(|| anyhow::anyhow!("Janus's plugin folder not found"))?;
    let dir = std::env::temp_dir().join(format!("helsebro-bench-janus-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let dir = TempDir(dir);
    let port = free_port()?;
    let only = |folder: &str, keep: &str| -> String {
        std::fs::read_dir(format!("{lib}/{folder}"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".so") && n != keep)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    let conf = format!(
        r#"general: {{
	configs_folder = "{cfg}"
	plugins_folder = "{lib}/plugins"
	transports_folder = "{lib}/transports"
	events_folder = "{lib}/events"
	loggers_folder = "{lib}/loggers"
	debug_level = 3
	admin_secret = "unused"
}}
certificates: {{}}
media: {{
	rtp_port_range = "20000-60000"
}}
nat: {{
	ice_lite = true
	ice_tcp = false
	full_trickle = false
	ignore_mdns = true
	ice_enforce_list = "{iface}"
}}
plugins: {{
	disable = "{plugins}"
}}
transports: {{
	disable = "{transports}"
}}
loggers: {{
	disable = "{loggers}"
}}
events: {{
	broadcast = false
}}
"#,
        cfg = dir.0.display(),
        plugins = only("plugins", "libjanus_videoroom.so"),
        transports = only("transports", "libjanus_http.so"),
        loggers = only("loggers", ""),
        iface = std::env::var("BENCH_IFACE").unwrap_or_else(|_| "lo".into()),
    );
    std::fs::write(dir.0.join("janus.jcfg"), conf)?;
    std::fs::write(
        dir.0.join("janus.transport.http.jcfg"),
        format!(
            "general: {{\n\tjson = \"plain\"\n\tbase_path = \"/janus\"\n\thttp = true\n\tport = {port}\n\tip = \"127.0.0.1\"\n\thttps = false\n}}\nadmin: {{\n\tadmin_http = false\n\tadmin_https = false\n}}\n"
        ),
    )?;
    std::fs::write(dir.0.join("janus.plugin.videoroom.jcfg"), "general: {\n}\n")?;
    let log = std::fs::File::create(dir.0.join("janus.log"))?;
    let child = command(cores, "janus")
        .arg("-C")
        .arg(dir.0.join("janus.jcfg"))
        .arg("-F")
        .arg(&dir.0)
        .arg("-o")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let mut server = Server {
        kind: Kind::Janus,
        child,
        udp: SocketAddr::from(([127, 0, 0, 1], 0)),
        signal: SocketAddr::from(([127, 0, 0, 1], port)),
        janus_port: port,
        _dir: Some(dir),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let http = reqwest::Client::new();
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/janus/info"))
            .send()
            .await
            && r.status().is_success()
        {
            return Ok(server);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            let log = server
                ._dir
                .as_ref()
                .and_then(|d| std::fs::read_to_string(d.0.join("janus.log")).ok())
                .unwrap_or_default();
            anyhow::bail!("janus exited ({status}): {}", tail(&log));
        }
        if Instant::now() > deadline {
            anyhow::bail!("janus did not answer on port {port}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
