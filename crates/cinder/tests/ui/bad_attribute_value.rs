use cinder::html;

fn main() {
    let _ = html! { <div class=main></div> };
}
