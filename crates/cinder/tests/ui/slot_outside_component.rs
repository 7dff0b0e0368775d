use cinder::html;

fn main() {
    let _ = html! { <div><:footer>bye</:footer></div> };
}
