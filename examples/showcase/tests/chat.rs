//! `/chat` without a browser: two tabs on one room, a message sent in one
//! appearing in both through PubSub, and who is online.

mod common;

use cinder_test::View;

/// Two tabs on the room, each seeing both online.
async fn ann_and_bob() -> cinder_test::Result<(View, View)> {
    let browser = common::showcase().await;
    let ann = browser.live("/chat").await?;
    let bob = browser.live("/chat").await?;
    ann.wait_for_element("#online", Some("2")).await?;
    Ok((ann, bob))
}

#[tokio::test]
async fn a_message_reaches_every_tab() -> cinder_test::Result<()> {
    let (ann, bob) = ann_and_bob().await?;
    ann.form("#chat")?
        .with(&[("message[name]", "Ann"), ("message[text]", "hello, Bob")])
        .submit()
        .await?;
    bob.wait_for_element("#messages li", Some("hello, Bob"))
        .await?;
    ann.wait_for_element("#messages li", Some("hello, Bob"))
        .await?;
    assert_eq!(bob.texts("#messages li")?, ["Ann: hello, Bob"]);
    let dom_id = |view: &View| view.element("#messages li", None)?.attr("id");
    let shown_id = dom_id(&bob)?.unwrap_or_default();
    let hex = shown_id.strip_prefix("messages-").unwrap_or_default();
    assert!(
        hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "a message's element is messages-<16 hex digits>, not {shown_id:?}"
    );
    assert_eq!(dom_id(&ann)?, Some(shown_id), "every tab names it alike");
    assert_eq!(
        ann.element("#text", None)?.attr("value")?.as_deref(),
        Some(""),
        "the sender's draft is cleared"
    );
    bob.wait_for_element("#people li", Some("Ann")).await?;
    Ok(())
}

#[tokio::test]
async fn an_empty_message_is_refused_with_a_reason() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/chat").await?;
    view.form("#chat")?
        .with(&[("message[name]", "Ann"), ("message[text]", "   ")])
        .submit()
        .await?;
    assert_eq!(
        view.element("#error", None)?.text()?,
        "Write a message first."
    );
    assert!(!view.has_element("#messages li", None)?);
    Ok(())
}

#[tokio::test]
async fn a_closed_tab_leaves_the_room() -> cinder_test::Result<()> {
    let (ann, bob) = ann_and_bob().await?;
    drop(bob);
    ann.wait_for_element("#online", Some("1")).await?;
    Ok(())
}

#[tokio::test]
async fn messages_and_names_stay_right_as_the_room_changes() -> cinder_test::Result<()> {
    let (ann, bob) = ann_and_bob().await?;
    for (tab, name, text) in [
        (&ann, "Ann", "one"),
        (&bob, "Bob", "two"),
        (&ann, "Annie", "three"),
    ] {
        tab.form("#chat")?
            .with(&[("message[name]", name), ("message[text]", text)])
            .submit()
            .await?;
        bob.wait_for_element("#messages li", Some(text)).await?;
        ann.wait_for_element("#messages li", Some(text)).await?;
    }
    let expected = ["Ann: one", "Bob: two", "Annie: three"];
    assert_eq!(ann.texts("#messages li")?, expected);
    assert_eq!(bob.texts("#messages li")?, expected);
    // A new name replaces the old one in each list; only a tab's own entry
    // is marked as its own.
    bob.wait_for_element("#people li", Some("Annie")).await?;
    ann.wait_for_element("#people li", Some("Annie (you)"))
        .await?;
    let mut bobs_view = bob.texts("#people li")?;
    bobs_view.sort();
    assert_eq!(bobs_view, ["Annie", "Bob (you)"]);
    Ok(())
}

#[tokio::test]
async fn a_page_keeps_the_latest_messages_only() -> cinder_test::Result<()> {
    let view = common::showcase().await.live("/chat").await?;
    let sent = showcase::chat::HISTORY + 5;
    for n in 1..=sent {
        view.form("#chat")?
            .with(&[("message[name]", "Ann"), ("message[text]", &n.to_string())])
            .submit()
            .await?;
    }
    view.wait_for_element("#messages li", Some(&format!("Ann: {sent}")))
        .await?;
    let shown = view.texts("#messages li")?;
    assert_eq!(shown.len() as i64, showcase::chat::HISTORY);
    assert_eq!(shown.first().map(String::as_str), Some("Ann: 6"));
    assert_eq!(shown.last(), Some(&format!("Ann: {sent}")));
    Ok(())
}
