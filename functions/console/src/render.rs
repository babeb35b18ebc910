//! The page templates (embedded in the binary, HTML auto-escaped) and the stylesheet.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Value, json};

use crate::strings::Lang;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    (
        "set_password.html",
        include_str!("templates/set_password.html"),
    ),
    ("search.html", include_str!("templates/search.html")),
    ("customer.html", include_str!("templates/customer.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("message.html", include_str!("templates/message.html")),
    ("staff.html", include_str!("templates/staff.html")),
    ("cases.html", include_str!("templates/cases.html")),
    ("case.html", include_str!("templates/case.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("settings.html", include_str!("templates/settings.html")),
    ("keys.html", include_str!("templates/keys.html")),
    ("campaigns.html", include_str!("templates/campaigns.html")),
];

const STYLESHEET: &str = include_str!("assets/console.css");

pub struct Templates(Environment<'static>);

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // The templates are part of the binary and checked by the tests.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "console template does not compile");
            }
        }
        Self(env)
    }

    /// Renders `name` with `ctx` plus the language's strings.
    pub fn page(&self, status: StatusCode, name: &str, lang: Lang, mut ctx: Value) -> Response {
        if let Value::Object(m) = &mut ctx {
            m.insert("t".into(), json!(lang.strings()));
            m.insert("lang".into(), json!(lang.tag()));
            m.insert("other_lang".into(), json!(lang.other().tag()));
        }
        match self
            .0
            .get_template(name)
            .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
        {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "console page failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_the_chart_pages_render_without_data() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
        let ctx = json!({"t": Lang::En.strings(), "charts": {}, "cases": []});
        for name in ["dashboard.html", "cases.html"] {
            env.get_template(name)
                .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }
}
