//! `/form`: a sign-up form validated as the user types (`phx-change`) and on
//! submit (`phx-submit`), with an error per field and a flash on success.
//!
//! The client marks each field the user has not touched yet with an empty
//! entry whose last name is prefixed `_unused_` (`user[_unused_email]`);
//! that field's error waits until the user gets to it or submits.

use cinder::live::{Event, LiveView, MountError, Params, Session, Socket};
use cinder::{html, Rendered};
use serde::Deserialize;
use serde_json::Value;

/// The form's fields, as `user[name]`, `user[email]`, `user[password]`.
#[derive(Clone, Default, Deserialize)]
struct User {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// What was typed, what is wrong with it, and who has signed up.
pub struct SignUp {
    user: User,
    errors: Errors,
    members: usize,
}

#[derive(Default)]
struct Errors {
    name: Option<&'static str>,
    email: Option<&'static str>,
    password: Option<&'static str>,
}

impl Errors {
    fn of(user: &User) -> Errors {
        let name = user.name.trim().chars().count();
        let email = user.email.trim();
        Errors {
            name: (!(2..=40).contains(&name)).then_some("Name must be 2 to 40 characters."),
            email: (!(email.contains('@')
                && email
                    .rsplit('@')
                    .next()
                    .is_some_and(|domain| domain.contains('.'))))
            .then_some("Email must look like name@example.com."),
            password: (user.password.chars().count() < 8)
                .then_some("Password must be at least 8 characters."),
        }
    }

    fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.password.is_none()
    }

    /// Keeps only the errors of fields the user has touched.
    fn touched(mut self, fields: &Value) -> Errors {
        let untouched = |field: &str| fields.get(format!("_unused_{field}")).is_some();
        if untouched("name") {
            self.name = None;
        }
        if untouched("email") {
            self.email = None;
        }
        if untouched("password") {
            self.password = None;
        }
        self
    }
}

/// The form as submitted: the fields, with the client's markers among them.
#[derive(Deserialize)]
struct Submitted {
    #[serde(default)]
    user: Value,
}

impl Submitted {
    fn user(&self) -> User {
        User::deserialize(&self.user).unwrap_or_default()
    }
}

impl LiveView for SignUp {
    type Info = ();

    async fn mount(
        _params: &Params,
        _session: &Session,
        _socket: &mut Socket<Self>,
    ) -> Result<Self, MountError> {
        Ok(SignUp {
            user: User::default(),
            errors: Errors::default(),
            members: 0,
        })
    }

    async fn handle_event(&mut self, event: Event, socket: &mut Socket<Self>) {
        let Ok(form) = event.decode::<Submitted>() else {
            return;
        };
        match event.name() {
            "validate" => {
                let user = form.user();
                self.errors = Errors::of(&user).touched(&form.user);
                self.user = user;
            }
            "save" => {
                let user = form.user();
                let errors = Errors::of(&user);
                if errors.is_empty() {
                    self.members += 1;
                    socket.put_flash("info", format!("Welcome, {}!", user.name.trim()));
                    self.user = User::default();
                    self.errors = Errors::default();
                } else {
                    self.errors = errors;
                    self.user = user;
                }
            }
            _ => {}
        }
    }

    fn render(&self) -> Rendered {
        let members = self.members;
        html! {
            <main>
                <h1>"Sign up"</h1>
                <form id="signup" phx-change="validate" phx-submit="save">
                    <label>"Name "<input type="text" name="user[name]" value={self.user.name.as_str()}></label>
                    @if let Some(error) = self.errors.name { <p class="error" id="name-error">{error}</p> }
                    <label>"Email "<input type="text" name="user[email]" value={self.user.email.as_str()}></label>
                    @if let Some(error) = self.errors.email { <p class="error" id="email-error">{error}</p> }
                    <label>"Password "<input type="password" name="user[password]" value={self.user.password.as_str()}></label>
                    @if let Some(error) = self.errors.password { <p class="error" id="password-error">{error}</p> }
                    <button type="submit">"Sign up"</button>
                </form>
                <p id="members">{members}" signed up"</p>
            </main>
        }
    }
}
