//! The page head with client hooks: `LiveRouter::hooks` makes every page
//! import the module's default export and hand it to the `LiveSocket`.

mod common;

use cinder::live::{Config, LiveRouter};
use common::{get, App, Counter};

async fn serve(router: LiveRouter) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = router.into_router();
    let task = tokio::spawn(async move { cinder::serve(listener, router).await });
    App { address, task }
}

fn config() -> Config {
    Config::new("a test secret that is long enough to sign tokens").unwrap()
}

/// The inline module script of the page's head.
fn module_script(html: &str) -> &str {
    let start = html
        .find(r#"<script type="module">"#)
        .expect("a module script");
    let end = start + html[start..].find("</script>").expect("its end");
    &html[start..end]
}

#[tokio::test]
async fn the_head_imports_the_hooks_module_and_gives_its_default_export_to_the_socket() {
    let app = serve(
        LiveRouter::new(config())
            .hooks("/app/hooks.js")
            .live::<Counter>("/counter"),
    )
    .await;
    let page = get(&app, "/counter").await;
    assert_eq!(page.status, 200);
    let script = module_script(&page.html);
    assert!(
        script.contains("import hooks from \"/app/hooks.js\";"),
        "{script}"
    );
    assert!(
        script.contains("new LiveSocket(\"/live\", window.Phoenix.Socket, { hooks, params: { _csrf_token: csrfToken } })"),
        "{script}"
    );
    // The hooks are imported before the socket is made.
    assert!(script.find("import hooks").unwrap() < script.find("new LiveSocket").unwrap());
}

#[tokio::test]
async fn without_hooks_the_socket_gets_none() {
    let app = serve(LiveRouter::new(config()).live::<Counter>("/counter")).await;
    let page = get(&app, "/counter").await;
    let script = module_script(&page.html);
    assert!(!script.contains("import hooks"), "{script}");
    assert!(
        script.contains("new LiveSocket(\"/live\", window.Phoenix.Socket, { params: { _csrf_token: csrfToken } })"),
        "{script}"
    );
}

#[tokio::test]
async fn a_hooks_url_cannot_end_the_script() {
    let app = serve(
        LiveRouter::new(config())
            .hooks("/x.js\"</script><script>alert(1)</script>")
            .live::<Counter>("/counter"),
    )
    .await;
    let page = get(&app, "/counter").await;
    let script = module_script(&page.html);
    assert!(
        script.contains(
            r#"import hooks from "/x.js\"\u003c/script>\u003cscript>alert(1)\u003c/script>";"#
        ),
        "{script}"
    );
    assert!(!page.html.contains("<script>alert(1)"));
}
