//! Publishing an incident made here to a relay that takes new incidents only from holders of
//! its creation secret (`--create-secret`): the relay said 401, so the person is asked for
//! the secret, which this device then keeps and sends with every incident it publishes.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::form::Field;
use crate::session::{use_incident, Standing};

#[component]
pub fn CreationSecret() -> impl IntoView {
    let open = use_incident();
    let standing = open.standing;
    let asked = Memo::new(move |_| match standing.get() {
        Standing::NeedsCreationSecret { wrong } => Some(wrong),
        _ => None,
    });
    move || {
        let wrong = asked.get()?;
        let typed = RwSignal::new(String::new());
        let open = open.clone();
        let field = Field::new("creation-secret", "The relay's creation secret")
            .autocomplete("off")
            .hint(
                "Ask whoever runs this relay. It is kept on this device and sent when an incident made here is published.".to_string(),
            )
            .two_way(typed);
        let problem = field.problem();
        if wrong {
            problem.set(Some(
                "The relay did not accept that secret. Check it and try again.".to_string(),
            ));
        }
        let submit = move |ev: SubmitEvent| {
            ev.prevent_default();
            let secret = typed.get_untracked();
            if secret.trim().is_empty() {
                problem.set(Some("Type the relay's creation secret.".to_string()));
                return;
            }
            open.creation_secret_given(&secret);
        };
        Some(view! {
            <section class="card creation-secret" aria-labelledby="h-creation-secret">
                <h2 id="h-creation-secret">"This relay asks for its creation secret"</h2>
                <p>
                    "New incidents go on this relay only with its creation secret. Until then this incident stays on this device, where you can go on writing."
                </p>
                <form on:submit=submit>
                    {field.view()}
                    <button type="submit">"Publish the incident"</button>
                </form>
            </section>
        })
    }
}
