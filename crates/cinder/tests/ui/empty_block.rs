use cinder::html;

fn main() {
    let _ = html! { <p>{}</p> };
}
