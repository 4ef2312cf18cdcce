//! The operator dashboard (issue 8) in a real browser: headless Chromium driven through
//! chromedriver (WebDriver), against the real `omadm server` on 127.0.0.1, with real
//! `omadm device run` sessions. Sign in, watch a device appear live, open its tree, queue a
//! Replace from the form, run the device again and see the result. A screenshot of each page is
//! saved under `target/ui-screenshots/`.
//!
//! Needs `chromedriver` and `chromium` (Debian packages chromium-driver and chromium; `.ci/run`
//! installs them). Without them the test says so and passes, unless `OMADM_REQUIRE_BROWSER=1`
//! (set by `.ci/run`), when it fails.

mod common;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/rest.rs"]
mod rest;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use rest::{seg, Server};
use serde_json::{json, Value};

const DEV: &str = "IMEI:356938035643809";
/// How long the page gets to show what the test waits for.
const WAIT: Duration = Duration::from_secs(20);

fn find_tool(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver on a free loopback port; killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(exe: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn chromedriver");
        let until = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < until, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// The browser session and what the test keeps of it.
struct Ui {
    c: Client,
    base: String,
    shots: PathBuf,
}

impl Ui {
    async fn wait(&self, css: &str) -> Element {
        match self
            .c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                self.shot("failure").await;
                panic!("{css} did not appear: {e}");
            }
        }
    }

    /// Waits until the text of `css` contains `want`.
    async fn wait_text(&self, css: &str, want: &str) -> String {
        let until = Instant::now() + WAIT;
        loop {
            if let Ok(e) = self.c.find(Locator::Css(css)).await {
                if let Ok(t) = e.text().await {
                    if t.contains(want) {
                        return t;
                    }
                }
            }
            if Instant::now() > until {
                self.shot("failure").await;
                let now = match self.c.find(Locator::Css(css)).await {
                    Ok(e) => e.text().await.unwrap_or_default(),
                    Err(_) => "(absent)".into(),
                };
                panic!("{css} never contained {want:?}; it reads {now:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.wait(css).await;
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    async fn go(&self, hash: &str) {
        self.c
            .goto(&format!("{}/{hash}", self.base))
            .await
            .expect("navigate");
    }

    async fn js(&self, script: &str) -> Value {
        self.c.execute(script, vec![]).await.expect("script")
    }

    /// A screenshot of the whole page (the window grown to the page's height, then restored).
    async fn shot(&self, name: &str) {
        let size = self.c.get_window_size().await.ok();
        let height = self
            .c
            .execute(
                "window.scrollTo(0, 0); return document.documentElement.scrollHeight;",
                vec![],
            )
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        let size = size.and_then(|(w, h)| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?)));
        if let Some((w, h)) = size {
            let full = u32::try_from(height).unwrap_or(h).clamp(h, 6000);
            let _ = self.c.set_window_size(w, full).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        if let Ok(png) = self.c.screenshot().await {
            let _ = std::fs::write(self.shots.join(format!("{name}.png")), png);
        }
        if let Some((w, h)) = size {
            let _ = self.c.set_window_size(w, h).await;
        }
    }

    /// The page's own accessibility promises: every visible form control has a label, every
    /// button a name, and nothing is wider than the window (no sideways scrolling of the page).
    async fn check_page(&self, page: &str) {
        let v = self
            .js(
                "const bad = [];
                 for (const el of document.querySelectorAll('input, select, textarea')) {
                   if (el.type === 'hidden' || el.offsetParent === null) continue;
                   const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
                     || el.getAttribute('aria-labelledby');
                   if (!named) bad.push('unlabelled ' + el.tagName + '#' + el.id);
                 }
                 for (const b of document.querySelectorAll('button')) {
                   if (b.offsetParent === null) continue;
                   if (!(b.textContent.trim() || b.getAttribute('aria-label'))) bad.push('nameless button');
                 }
                 const w = document.documentElement.scrollWidth, iw = window.innerWidth;
                 if (w > iw + 1) bad.push('page is ' + w + ' px wide in a ' + iw + ' px window');
                 return bad;",
            )
            .await;
        assert_eq!(v, json!([]), "{page}: {v}");
    }
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": find_tool("OMADM_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session in headless Chromium")
}

/// The server, chromedriver and a signed-out browser on the server's page; `None` (the test
/// skips) when there is no chromedriver and `OMADM_REQUIRE_BROWSER` is not 1.
async fn start() -> Option<(tempfile::TempDir, Server, Driver, Ui)> {
    let required = std::env::var("OMADM_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let Some(driver_exe) = find_tool("OMADM_CHROMEDRIVER", &["chromedriver"]) else {
        assert!(
            !required,
            "OMADM_REQUIRE_BROWSER=1 but chromedriver is not on PATH"
        );
        eprintln!("skipped: no chromedriver (install Debian's chromium and chromium-driver)");
        return None;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(tmp.path(), &[]);
    let driver = Driver::start(&driver_exe);
    let c = browser(&driver, &tmp.path().join("profile")).await;
    let ui = Ui {
        c,
        base: format!("http://{}", server.addr),
        shots: screenshot_dir(),
    };
    Some((tmp, server, driver, ui))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_signs_in_watches_a_device_and_queues_a_replace() {
    let Some((tmp, server, driver, ui)) = start().await else {
        return;
    };
    // Sign in: a wrong token is refused with a message, the right one opens the overview.
    ui.go("").await;
    ui.wait("form#signin").await;
    ui.check_page("sign-in").await;
    ui.shot("01-sign-in").await;
    ui.fill("#token", "not-the-token").await;
    ui.click("form#signin button[type=submit]").await;
    let until = Instant::now() + WAIT;
    while ui
        .wait("#signin-error")
        .await
        .text()
        .await
        .expect("text")
        .trim()
        .is_empty()
    {
        assert!(Instant::now() < until, "a wrong token says why");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ui.fill("#token", &server.token).await;
    ui.click("form#signin button[type=submit]").await;
    ui.wait("nav#nav").await;

    // The device list is open when the device is enrolled and runs: its row appears live.
    ui.go("#/devices").await;
    ui.wait("table#devices").await;
    fleet::enroll(&server, DEV);
    let dev = fleet::init(tmp.path(), DEV, &server.dm_url());
    fleet::run(&dev);
    let row = format!("tr[data-device-id=\"{DEV}\"]");
    let man = server.api_ok("GET", &format!("/devices/{}", seg(DEV)), None, 200)["devinfo"]["Man"]
        .as_str()
        .expect("DevInfo/Man after a session")
        .to_owned();
    ui.wait_text(&row, &man).await;
    ui.check_page("devices").await;
    ui.shot("03-devices").await;

    // The device page; its tree is fetched by a Get ?list=StructData queued from the page.
    ui.click(&format!("{row} a")).await;
    ui.wait_text("h1", DEV).await;
    ui.wait("section#tree").await;
    ui.click("#tree-refresh").await;
    ui.wait_text("#device-msg", "ueued").await;
    let queued = server.api_ok("GET", &format!("/devices/{}/commands", seg(DEV)), None, 200);
    let get = &queued.as_array().expect("commands")[0];
    assert_eq!(get["spec"]["op"], "Get", "{queued}");
    assert!(
        get["spec"]["target"]
            .as_str()
            .is_some_and(|t| t.ends_with("?list=StructData")),
        "{queued}"
    );
    // An Add the Replace below will change (a Replace of a node that does not exist is 404).
    server.api_ok(
        "POST",
        &format!("/devices/{}/commands", seg(DEV)),
        Some(&json!({ "op": "Add", "target": "./Vendor/Dash", "data": "one", "format": "chr" })),
        201,
    );
    fleet::run(&dev);
    let mod_uri = "li[data-uri=\"./DevInfo/Mod\"]";
    expand_tree(&ui, mod_uri).await;
    let model = server.api_ok("GET", &format!("/devices/{}", seg(DEV)), None, 200)["devinfo"]
        ["Mod"]
        .as_str()
        .expect("DevInfo/Mod")
        .to_owned();
    ui.wait_text(mod_uri, &model).await;

    // Queue a Replace from the form; the device's next session answers it.
    ui.wait("form#queue-form").await;
    ui.wait("select#op")
        .await
        .select_by_value("Replace")
        .await
        .expect("choose Replace");
    ui.fill("#target", "./Vendor/Dash").await;
    ui.fill("#data", "two").await;
    ui.click("#queue-submit").await;
    ui.wait_text("#device-msg", "ueued").await;
    let cmds = server.api_ok("GET", &format!("/devices/{}/commands", seg(DEV)), None, 200);
    let replace = cmds
        .as_array()
        .expect("commands")
        .iter()
        .find(|c| c["spec"]["op"] == "Replace")
        .unwrap_or_else(|| panic!("the form queued no Replace: {cmds}"));
    assert_eq!(replace["spec"]["target"], "./Vendor/Dash");
    assert_eq!(replace["spec"]["data"], "two");
    assert_eq!(replace["state"], "queued");
    let rid = replace["id"].as_i64().expect("id");
    let cell = format!("tr[data-command-id=\"{rid}\"]");
    ui.wait_text(&format!("{cell} td.state"), "queued").await;
    fleet::run(&dev);
    ui.wait_text(&format!("{cell} td.state"), "done").await;
    ui.wait_text(&format!("{cell} td.status"), "200").await;
    let dash = "li[data-uri=\"./Vendor/Dash\"]";
    expand_tree(&ui, dash).await;
    ui.wait_text(dash, "two").await;
    assert_eq!(
        server.api_ok(
            "GET",
            &format!("/devices/{}/commands/{rid}", seg(DEV)),
            None,
            200
        )["status"],
        200
    );
    ui.check_page("device").await;
    ui.shot("04-device").await;
    // Its first screen alone (the README shows it).
    ui.js("window.scrollTo(0, 0); return 0;").await;
    if let Ok(png) = ui.c.screenshot().await {
        std::fs::write(ui.shots.join("04-device-top.png"), png).expect("screenshot");
    }

    // The same page at a phone's width.
    ui.c.set_window_size(390, 900).await.expect("resize");
    tokio::time::sleep(Duration::from_millis(300)).await;
    ui.check_page("device at 390 px").await;
    ui.shot("05-device-phone").await;
    ui.c.set_window_size(1280, 1000).await.expect("resize");

    // The overview: the live feed saw the sessions, the chart counts them.
    ui.go("#/").await;
    ui.wait("#chart-sessions").await;
    ui.wait("#chart-outcomes").await;
    fleet::run(&dev);
    ui.wait_text("#live", DEV).await;
    ui.check_page("overview").await;
    ui.shot("02-overview").await;

    // The queue page, for several devices.
    ui.go("#/queue").await;
    ui.wait("form#queue-form").await;
    ui.check_page("queue").await;
    ui.shot("06-queue").await;

    let _ = ui.c.close().await;
    drop(driver);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_queues_a_campaign_for_picked_devices() {
    let Some((tmp, server, driver, ui)) = start().await else {
        return;
    };
    let ids = ["IMEI:100000000000001", "IMEI:100000000000002"];
    let devs: Vec<PathBuf> = ids
        .iter()
        .map(|id| {
            fleet::enroll(&server, id);
            let d = fleet::init(tmp.path(), id, &server.dm_url());
            fleet::run(&d);
            d
        })
        .collect();
    sign_in(&ui, &server.token).await;

    // Pick both on the device list, then queue one Get for the two of them.
    ui.go("#/devices").await;
    for id in ids {
        ui.click(&format!("tr[data-device-id=\"{id}\"] input.pick"))
            .await;
    }
    ui.go("#/queue").await;
    for id in ids {
        ui.wait_text("#picked", id).await;
    }
    ui.click("#mode-picked").await;
    ui.wait("select#op")
        .await
        .select_by_value("Get")
        .await
        .expect("choose Get");
    ui.fill("#target", "./DevInfo/Lang").await;
    ui.click("#queue-submit").await;
    ui.wait_text("#queue-msg", "for 2 devices").await;
    let campaigns = server.api_ok("GET", "/bulk/campaigns", None, 200);
    let cid = campaigns[0]["id"].as_i64().expect("a campaign");
    assert_eq!(campaigns[0]["devices"], 2, "{campaigns}");
    assert_eq!(campaigns[0]["specs"][0]["target"], "./DevInfo/Lang");
    ui.wait_text("#campaign [data-state=queued] dd", "2").await;
    for d in &devs {
        fleet::run(d);
    }
    ui.wait_text("#campaign [data-state=done] dd", "2").await;
    ui.wait_text("#campaign", "2 of 2 commands finished").await;
    let c = server.api_ok("GET", &format!("/bulk/campaigns/{cid}"), None, 200);
    assert_eq!(c["states"]["done"], 2, "{c}");
    ui.check_page("queue with a campaign").await;
    ui.shot("07-campaign").await;

    // Notify needs a push URL this device has not got: the page says so.
    ui.go(&format!("#/devices/{}", seg(ids[0]))).await;
    ui.click("#notify").await;
    ui.wait_text("#device-msg", "push_url").await;

    let _ = ui.c.close().await;
    drop(driver);
}

/// Signs in with `token` from the sign-in page.
async fn sign_in(ui: &Ui, token: &str) {
    ui.go("").await;
    ui.fill("#token", token).await;
    ui.click("form#signin button[type=submit]").await;
    ui.wait("nav#nav").await;
}

/// Opens the tree down to `css` (a `li[data-uri=...]`): clicks the toggles of collapsed
/// interior nodes until it shows, within [`WAIT`].
async fn expand_tree(ui: &Ui, css: &str) {
    let until = Instant::now() + WAIT;
    loop {
        if let Ok(e) = ui.c.find(Locator::Css(css)).await {
            if e.is_displayed().await.unwrap_or(false) {
                return;
            }
        }
        ui.js(
            "for (const li of document.querySelectorAll('#tree [aria-expanded=\"false\"]')) {
               const b = li.querySelector(':scope > button, :scope > .toggle, :scope > span > button');
               if (b) b.click();
             }",
        )
        .await;
        if Instant::now() > until {
            ui.shot("failure").await;
            panic!("{css} never showed in the tree");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
