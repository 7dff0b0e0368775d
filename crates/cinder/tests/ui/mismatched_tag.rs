use cinder::html;

fn main() {
    let _ = html! { <div><p>text</span></div> };
}
