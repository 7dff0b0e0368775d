use cinder::html;

fn main() {
    let _ = html! { text</div> };
}
