use cinder::html;

struct Secret;

fn main() {
    let _ = html! { <p>{Secret}</p> };
}
