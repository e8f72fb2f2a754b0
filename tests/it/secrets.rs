//! Secrets against the real OS keychain (on Linux the Secret Service, e.g. gnome-keyring in
//! a D-Bus session) and through the real `copydesk` binary, plus the leak scan.
//!
//! Without a reachable keychain these tests print a notice and return, except when
//! `CI=true`: then they fail, so CI can never pass without having exercised the keychain.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use copydesk::api::paths::APP_IDENTIFIER;
use copydesk::secrets::{Keychain, KeychainError, ResolveError, Secret, SecretPart, SecretSource};

/// The keychain under a service of its own (still namespaced by the app identifier), or
/// `None` with a notice when no keychain answers outside CI.
fn keychain(test: &str) -> Option<Keychain> {
    let kc = Keychain::with_service(format!("{APP_IDENTIFIER}.it.{test}.{}", std::process::id()));
    match kc.check() {
        Ok(()) => Some(kc),
        Err(e) => no_keychain(&e),
    }
}

fn no_keychain<T>(e: &KeychainError) -> Option<T> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but the OS keychain is not reachable ({e}); run the tests inside \
             `dbus-run-session` with gnome-keyring unlocked"
        );
    }
    // Straight to stderr, past the test harness's capture, so the skip is seen.
    let _ = writeln!(
        std::io::stderr(),
        "NOTICE: keychain test skipped, no OS keychain reachable: {e}"
    );
    None
}

#[test]
fn keychain_stores_reads_overwrites_and_deletes() {
    let Some(kc) = keychain("crud") else { return };
    let user = "crud-account.secret";
    kc.set(user, &Secret::new("first-value-1".into()))
        .expect("store succeeds");
    let got = kc.get(user).expect("read succeeds");
    assert_eq!(
        got.as_ref().map(Secret::expose),
        Some("first-value-1"),
        "reads back what was stored"
    );
    kc.set(user, &Secret::new("second-value-2".into()))
        .expect("overwrite succeeds");
    let got = kc.get(user).expect("read succeeds");
    assert_eq!(
        got.as_ref().map(Secret::expose),
        Some("second-value-2"),
        "overwrite replaces the value"
    );
    assert!(
        kc.delete(user).expect("delete succeeds"),
        "delete reports it removed an entry"
    );
    assert!(
        kc.get(user).expect("read succeeds").is_none(),
        "a deleted entry reads as None"
    );
    assert!(
        !kc.delete(user).expect("delete succeeds"),
        "deleting again finds nothing"
    );
}

#[test]
fn keychain_missing_entry_is_none() {
    let Some(kc) = keychain("missing") else {
        return;
    };
    assert!(
        kc.get("never-stored.key").expect("read succeeds").is_none(),
        "a missing entry must be None, not an error"
    );
}

#[test]
fn keychain_entries_are_separate_per_service() {
    let Some(a) = keychain("svc-a") else { return };
    let Some(b) = keychain("svc-b") else { return };
    a.set("same.key", &Secret::new("value-a".into()))
        .expect("store");
    assert!(
        b.get("same.key").expect("read").is_none(),
        "another service does not see it"
    );
    a.delete("same.key").expect("cleanup");
}

#[test]
fn resolver_reads_the_keychain_and_names_a_missing_entry() {
    let Some(kc) = keychain("resolve") else {
        return;
    };
    kc.set("lead.key", &Secret::new("lead-key-value".into()))
        .expect("store");
    let src = SecretSource::Keychain("lead".into());
    let key = src
        .resolve("lead", SecretPart::ApiKey, &kc)
        .expect("stored key resolves");
    assert_eq!(
        key.expose(),
        "lead-key-value",
        "resolver returns the keychain value"
    );
    let err = src
        .resolve("lead", SecretPart::ApiSecret, &kc)
        .expect_err("no secret stored");
    assert!(matches!(err, ResolveError::KeychainMissing { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("lead.secret") && msg.contains("copydesk keys add lead"),
        "names the entry and the fix: {msg}"
    );
    kc.delete("lead.key").expect("cleanup");
}

/// Directories a CLI run may write to, all under one temp root so they can be scanned.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let s = Self {
            root: tempfile::tempdir().expect("tempdir"),
        };
        for d in ["data", "home", "config", "cache", "xdg-data"] {
            std::fs::create_dir_all(s.path(d)).expect("mkdir");
        }
        s
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// `copydesk ARGS --data-dir data` with HOME and XDG dirs inside the sandbox, at trace
    /// level, with `stdin` fed in. The D-Bus session address is inherited.
    fn run(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_copydesk"));
        cmd.args(args)
            .arg("--data-dir")
            .arg(self.path("data"))
            .env("RUST_LOG", "trace")
            .env("RUST_BACKTRACE", "1")
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("XDG_DATA_HOME", self.path("xdg-data"))
            .env_remove("COPYDESK_DATA_DIR")
            .env_remove("COPYDESK_TEST_PANIC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("copydesk starts");
        child
            .stdin
            .take()
            .expect("piped stdin")
            .write_all(stdin.as_bytes())
            .expect("stdin written");
        child.wait_with_output().expect("copydesk finishes")
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Adds a key through the CLI; `None` (after the CI check) when no keychain is reachable.
fn cli_add(sb: &Sandbox, name: &str, key: &str, secret: &str) -> Option<Output> {
    let out = sb.run(&["keys", "add", name], &format!("{key}\n{secret}\n"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("no OS keychain is reachable") {
        return no_keychain(&KeychainError::Unavailable {
            detail: "the CLI could not reach it".into(),
        });
    }
    assert!(out.status.success(), "keys add succeeds: {}", text(&out));
    Some(out)
}

#[test]
fn cli_keys_add_list_remove_through_stdin() {
    let sb = Sandbox::new();
    let name = format!("it-cli-{}", std::process::id());
    let key = "abcdKEY0123456789wxyz";
    let Some(_) = cli_add(&sb, &name, key, "cli-secret-value-0001") else {
        return;
    };
    let list = sb.run(&["keys", "list"], "", &[]);
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success(), "keys list succeeds: {}", text(&list));
    assert!(
        out.contains(&name) && out.contains("abcd…wxyz"),
        "list shows name and masked key: {out}"
    );
    assert!(!out.contains(key), "list never shows the whole key: {out}");

    let kc = Keychain::app();
    let stored = kc
        .get(&Keychain::entry_name(&name, SecretPart::ApiSecret))
        .expect("keychain read");
    assert_eq!(
        stored.as_ref().map(Secret::expose),
        Some("cli-secret-value-0001"),
        "the secret landed in the app's keychain service"
    );

    let rm = sb.run(&["keys", "remove", &name], "", &[]);
    assert!(rm.status.success(), "keys remove succeeds: {}", text(&rm));
    assert!(
        kc.get(&Keychain::entry_name(&name, SecretPart::ApiKey))
            .expect("read")
            .is_none(),
        "remove deletes the keychain entry"
    );
    let list = sb.run(&["keys", "list"], "", &[]);
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains(&name),
        "a removed name is no longer listed: {}",
        text(&list)
    );
}

#[test]
fn without_a_keychain_the_cli_says_so_and_writes_no_file() {
    let sb = Sandbox::new();
    let secret = "no-keychain-secret-7777";
    let out = sb.run(
        &["keys", "add", "headless"],
        &format!("headless-key-0000\n{secret}\n"),
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/copydesk-no-bus",
        )],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "keys add must fail without a keychain: {}",
        text(&out)
    );
    assert!(
        err.contains("no OS keychain is reachable") && err.contains("{ env ="),
        "the message says there is no keychain and how to use environment variables: {err}"
    );
    let hits = leak::scan_dirs(&[sb.root.path()], &leak::needles(&[secret]));
    assert!(
        hits.is_empty(),
        "no secret may be written to any file as a fallback: {hits:?}"
    );
    let list = sb.run(&["keys", "list"], "", &[]);
    assert!(
        !String::from_utf8_lossy(&list.stdout).contains("headless"),
        "a failed add leaves no index entry: {}",
        text(&list)
    );
}

#[test]
fn leak_scan_finds_planted_encodings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "PlantedSecretValue-42";
    let needles = leak::needles(&[secret]);
    use base64::Engine as _;
    let encodings: Vec<(&str, Vec<u8>)> = vec![
        ("raw", secret.as_bytes().to_vec()),
        ("hex", hex::encode(secret).into_bytes()),
        ("HEX", hex::encode_upper(secret).into_bytes()),
        (
            "base64 at offset 1",
            base64::engine::general_purpose::STANDARD
                .encode([b"x".as_slice(), secret.as_bytes()].concat())
                .into_bytes(),
        ),
        (
            "base64url at offset 2",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode([b"xy".as_slice(), secret.as_bytes(), b"tail"].concat())
                .into_bytes(),
        ),
    ];
    for (i, (label, bytes)) in encodings.iter().enumerate() {
        let path = dir.path().join(format!("f{i}"));
        std::fs::write(&path, [b"prefix ".as_slice(), bytes, b" suffix"].concat()).expect("write");
        let hits = leak::scan_dirs(&[dir.path()], &needles);
        assert!(
            hits.iter().any(|h| h.contains(&format!("f{i}"))),
            "the scanner must find the secret written as {label}: {hits:?}"
        );
        std::fs::remove_file(&path).expect("cleanup");
    }
}

/// The leak test of issue #5, as far as the engine exists today: a simulator-style key
/// enters through `keys add` on stdin like a real account's, then list, export, errors and
/// a forced panic run at trace level; no output and no file may hold the key or secret.
#[test]
fn no_secret_reaches_outputs_logs_database_or_files() {
    let sb = Sandbox::new();
    let pid = std::process::id();
    let name = format!("leak-{pid}");
    let key = format!("SimKey{pid}q7Wm2Lx9Rt4Vb8Nc");
    let secret = format!("SimSecret{pid}Hf3Jk6Pz1Yd5Gs0Ea");
    let mut outputs = Vec::new();

    let Some(added) = cli_add(&sb, &name, &key, &secret) else {
        return;
    };
    outputs.push(("keys add", added));
    let mut run = |label: &'static str, args: &[&str], stdin: &str, env: &[(&str, &str)]| {
        let out = sb.run(args, stdin, env);
        outputs.push((label, out));
        outputs.last().map(|(_, o)| o.clone()).expect("just pushed")
    };

    let list = run("keys list", &["keys", "list"], "", &[]);
    assert!(list.status.success(), "keys list succeeds: {}", text(&list));
    run("keys list --json", &["keys", "list", "--json"], "", &[]);
    let export = run("export", &["export"], "", &[]);
    assert!(
        export.status.success(),
        "export succeeds: {}",
        text(&export)
    );
    let bad = run(
        "bad name",
        &["keys", "add", "bad name!"],
        &format!("{key}\n{secret}\n"),
        &[],
    );
    assert!(
        !bad.status.success(),
        "a bad key name is refused: {}",
        text(&bad)
    );
    let spaced = run(
        "bad secret",
        &["keys", "add", &format!("{name}-2")],
        &format!("{key}\n{secret} and more\n"),
        &[],
    );
    assert!(
        !spaced.status.success(),
        "a secret with spaces is refused: {}",
        text(&spaced)
    );
    let unarmed = run("debug-panic unarmed", &["debug-panic", &name], "", &[]);
    assert!(
        !unarmed.status.success(),
        "the panic hook is refused unless armed: {}",
        text(&unarmed)
    );
    let panic = run(
        "debug-panic",
        &["debug-panic", &name],
        "",
        &[("COPYDESK_TEST_PANIC", "1")],
    );
    let panic_err = String::from_utf8_lossy(&panic.stderr);
    assert!(
        panic_err.contains("forced test panic while holding"),
        "the panic must happen while the credentials are loaded: {}",
        text(&panic)
    );
    run("info", &["info", "--json"], "", &[]);
    let rm = run("keys remove", &["keys", "remove", &name], "", &[]);
    assert!(rm.status.success(), "keys remove succeeds: {}", text(&rm));

    let needles = leak::needles(&[&key, &secret]);
    let mut hits = Vec::new();
    for (label, out) in &outputs {
        hits.extend(leak::scan_bytes(
            &format!("{label} stdout"),
            &out.stdout,
            &needles,
        ));
        hits.extend(leak::scan_bytes(
            &format!("{label} stderr"),
            &out.stderr,
            &needles,
        ));
    }
    hits.extend(leak::scan_dirs(&[sb.root.path()], &needles));
    assert!(
        hits.is_empty(),
        "no form of the key or secret may appear anywhere: {hits:?}"
    );

    // The scan must have had something to look at.
    let logs = sb.path("data").join("logs");
    let log_text: String = std::fs::read_dir(&logs)
        .expect("log directory exists")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert!(
        log_text.contains("credentials loaded before a forced panic"),
        "the trace log in {} must hold the line that logged the loaded credentials \
         (redacted), or the scan proved nothing",
        logs.display()
    );
    assert!(
        copydesk::store::db_path(&sb.path("data")).exists(),
        "the database exists and was scanned"
    );
}

/// The leak test with the engine running: keys of two simulator accounts enter through
/// `keys add` (the path a real account takes), a config names them by keychain entry and a
/// custom endpoint, `copydesk run` copies a leader trade at trace level, the venue is made
/// to refuse requests (a forced error), `status` is read while the engine runs, and the
/// panic hook fires with the credentials loaded. No output and no file under the sandbox
/// (data dir with database and logs, HOME, config, cache and XDG data dirs, where WebKit
/// keeps its storage) may hold any form of either key or secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_session_leaks_no_secret() {
    use crate::runtime::support::{amount, eventually, sim, write_config, Engine};

    let sb = Sandbox::new();
    let sim = sim().await;
    let lead = sim.usdt("10000").await;
    let me = sim.usdt("10000").await;
    let pid = std::process::id();
    let (lead_name, me_name) = (format!("leaklead{pid}"), format!("leakme{pid}"));
    let Some(added_lead) = cli_add(&sb, &lead_name, &lead.key, &lead.secret) else {
        return;
    };
    let added_me = cli_add(&sb, &me_name, &me.key, &me.secret).expect("second key added");
    let base = sim.base();
    let account = |name: &str| {
        format!(
            "[[accounts]]\nname = \"{name}\"\nexchange = \"binance-usdm\"\nendpoint = \"{base}\"\n\
             api_key = {{ keychain = \"{name}\" }}\napi_secret = {{ keychain = \"{name}\" }}\n\n"
        )
    };
    let config = write_config(
        &sb.path("config"),
        &format!(
            "[engine]\nreconcile_secs = 1\n\n{}{}[[copies]]\nname = \"leak\"\nleader = \"{lead_name}\"\nfollower = \"{me_name}\"\n\
             mode = \"smart-sync\"\ninvestment = \"1000\"\n",
            account(&lead_name),
            account(&me_name)
        ),
    );
    sim.price("BTCUSDT", "50000").await;

    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"));
    cmd.arg("--data-dir")
        .arg(sb.path("data"))
        .arg("run")
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "trace")
        .env("HOME", sb.path("home"))
        .env("XDG_CONFIG_HOME", sb.path("config"))
        .env("XDG_CACHE_HOME", sb.path("cache"))
        .env("XDG_DATA_HOME", sb.path("xdg-data"))
        .env_remove("COPYDESK_DATA_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut engine = Engine::spawn(cmd);
    engine
        .wait_line(
            "copy `leak` is watching",
            "the copy starts with keychain keys",
        )
        .await;

    lead.market("BTCUSDT", "BUY", "0.100")
        .await
        .ok("leader opens");
    eventually("the follower copies the open", || async {
        let q = amount(&sim, &me.account_id, "BTCUSDT").await;
        if q.is_zero() {
            Err("no follower position yet".into())
        } else {
            Ok(())
        }
    })
    .await;

    // A forced error: the venue refuses the engine's next requests (its reconciliation
    // runs every second here), and the engine must log the refusal it met.
    sim.admin(
        reqwest::Method::POST,
        "/admin/v1/faults",
        Some(serde_json::json!({"rejectNext": {"count": 3, "code": -1001, "status": 503}})),
    )
    .await
    .ok("fault armed");
    let logs = sb.path("data").join("logs");
    eventually("the engine meets the refusals", || async {
        let text: String = std::fs::read_dir(&logs)
            .map_err(|e| e.to_string())?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .collect();
        if text.contains("-1001") {
            Ok(())
        } else {
            Err("no refusal in the log yet".into())
        }
    })
    .await;
    // The armed refusals are meant for the engine; one the leader's own close meets while
    // the engine has not used them all up is retried, as a trader would.
    let mut close = lead.market("BTCUSDT", "SELL", "0.100").await;
    for _ in 0..3 {
        if close.status != 503 {
            break;
        }
        close = lead.market("BTCUSDT", "SELL", "0.100").await;
    }
    close.ok("leader closes");
    eventually("the follower ends flat after the refusals", || async {
        let q = amount(&sim, &me.account_id, "BTCUSDT").await;
        if q.is_zero() {
            Ok(())
        } else {
            Err(format!("follower still holds {q}"))
        }
    })
    .await;

    let status = sb.run(&["status", "--json"], "", &[]);
    assert!(
        status.status.success(),
        "status runs beside the engine: {}",
        text(&status)
    );
    engine.interrupt();
    let panic = sb.run(
        &["debug-panic", &me_name],
        "",
        &[("COPYDESK_TEST_PANIC", "1")],
    );
    assert!(
        String::from_utf8_lossy(&panic.stderr).contains("forced test panic while holding"),
        "the panic happens with the credentials loaded: {}",
        text(&panic)
    );
    for name in [&lead_name, &me_name] {
        let rm = sb.run(&["keys", "remove", name], "", &[]);
        assert!(rm.status.success(), "keys remove succeeds: {}", text(&rm));
    }

    let needles = leak::needles(&[&lead.key, &lead.secret, &me.key, &me.secret]);
    let mut hits = leak::scan_bytes("engine output", engine.output().as_bytes(), &needles);
    for (label, out) in [
        ("keys add lead", &added_lead),
        ("keys add me", &added_me),
        ("status", &status),
        ("debug-panic", &panic),
    ] {
        hits.extend(leak::scan_bytes(
            &format!("{label} stdout"),
            &out.stdout,
            &needles,
        ));
        hits.extend(leak::scan_bytes(
            &format!("{label} stderr"),
            &out.stderr,
            &needles,
        ));
    }
    hits.extend(leak::scan_dirs(&[sb.root.path()], &needles));
    assert!(
        hits.is_empty(),
        "no form of a key or secret may appear anywhere: {hits:?}"
    );
    // The scan had the session's traces and records to look at.
    let log_text: String = std::fs::read_dir(sb.path("data").join("logs"))
        .expect("log directory exists")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    assert!(
        log_text.contains("TRACE") && log_text.contains("leak"),
        "the trace log of the session must be there to be scanned"
    );
}

/// Reusable leak scanning: the forms a secret can take, and a search of outputs and
/// directory trees for any of them. Engine and app tests use the same helper.
pub mod leak {
    use std::path::Path;

    use base64::Engine as _;

    /// One form of one secret to look for.
    #[derive(Debug, Clone)]
    pub struct Needle {
        pub label: String,
        pub bytes: Vec<u8>,
    }

    /// Raw, hex (both cases) and base64 (standard and URL-safe) forms of each secret. For
    /// base64 all three byte alignments are covered, so the secret is found inside a
    /// longer encoded blob too; only the characters that depend on the secret alone are
    /// kept.
    pub fn needles(secrets: &[&str]) -> Vec<Needle> {
        let mut out = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            let raw = s.as_bytes();
            let mut push = |form: &str, bytes: Vec<u8>| {
                out.push(Needle {
                    label: format!("secret #{i} as {form}"),
                    bytes,
                })
            };
            push("raw", raw.to_vec());
            push("hex", hex::encode(raw).into_bytes());
            push("HEX", hex::encode_upper(raw).into_bytes());
            let engines = [
                ("base64", base64::engine::general_purpose::STANDARD_NO_PAD),
                (
                    "base64url",
                    base64::engine::general_purpose::URL_SAFE_NO_PAD,
                ),
            ];
            for (name, engine) in engines {
                for offset in 0..3usize {
                    let mut data = vec![0u8; offset];
                    data.extend_from_slice(raw);
                    let enc = engine.encode(&data);
                    // Characters mixing pad bits in front, and the last, partial group.
                    let skip = [0, 2, 3][offset];
                    let full = (data.len() / 3) * 4;
                    if full > skip + 8 {
                        push(
                            &format!("{name} at offset {offset}"),
                            enc.as_bytes()[skip..full].to_vec(),
                        );
                    }
                }
            }
        }
        out
    }

    /// Hits of any needle in `bytes`, labelled with `what`.
    pub fn scan_bytes(what: &str, bytes: &[u8], needles: &[Needle]) -> Vec<String> {
        needles
            .iter()
            .filter(|n| !n.bytes.is_empty() && bytes.windows(n.bytes.len()).any(|w| w == n.bytes))
            .map(|n| format!("{what}: {}", n.label))
            .collect()
    }

    /// Hits in every file under `roots` (recursively; symlinks are not followed).
    pub fn scan_dirs(roots: &[&Path], needles: &[Needle]) -> Vec<String> {
        let mut hits = Vec::new();
        let mut stack: Vec<std::path::PathBuf> = roots.iter().map(|r| r.to_path_buf()).collect();
        while let Some(p) = stack.pop() {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                if let Ok(entries) = std::fs::read_dir(&p) {
                    stack.extend(entries.filter_map(|e| Some(e.ok()?.path())));
                }
            } else if meta.is_file() {
                match std::fs::read(&p) {
                    Ok(bytes) => hits.extend(scan_bytes(&p.display().to_string(), &bytes, needles)),
                    Err(e) => hits.push(format!(
                        "{}: unreadable ({e}), so not proven clean",
                        p.display()
                    )),
                }
            }
        }
        hits
    }
}

#[test]
fn library_keys_add_and_remove_keep_the_index_in_step() {
    use copydesk::secrets::keys;
    let Some(kc) = keychain("keys-lib") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = copydesk::store::DataDir::open(dir.path(), "copydesk-app").expect("engine opens");
    let key = Secret::new("LIBkey0123456789abcdEND1".into());
    let secret = Secret::new("lib-secret-0123456789".into());
    let hint = keys::add(&data, &kc, "lib", &key, &secret).expect("stored");
    assert_eq!(hint, "LIBk…END1", "the hint is the masked key");
    assert_eq!(
        kc.get("lib.secret")
            .expect("read")
            .as_ref()
            .map(Secret::expose),
        Some("lib-secret-0123456789"),
        "the secret is in the keychain under NAME.secret"
    );
    let listed = keys::list(dir.path()).expect("list reads the index");
    assert_eq!(listed.len(), 1, "one name indexed: {listed:?}");
    assert_eq!(
        (listed[0].name.as_str(), listed[0].key_hint.as_str()),
        ("lib", "LIBk…END1")
    );
    let bad = keys::add(&data, &kc, "lib", &key, &Secret::new(String::new()));
    assert!(bad.is_err(), "an empty secret is refused");
    assert_eq!(
        kc.get("lib.secret")
            .expect("read")
            .as_ref()
            .map(Secret::expose),
        Some("lib-secret-0123456789"),
        "a refused add leaves the stored secret alone"
    );
    keys::remove(&data, &kc, "lib").expect("removed");
    assert!(kc.get("lib.key").expect("read").is_none(), "key entry gone");
    assert!(
        kc.get("lib.secret").expect("read").is_none(),
        "secret entry gone"
    );
    assert!(
        keys::list(dir.path()).expect("list").is_empty(),
        "index emptied"
    );
    let again = keys::remove(&data, &kc, "lib");
    assert!(
        matches!(again, Err(keys::KeysError::NotFound { .. })),
        "removing an unknown name says so: {again:?}"
    );
}
