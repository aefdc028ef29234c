//! The OpenAPI 3.1 document of the API. Its paths come from the
//! `#[utoipa::path]` attribute of each handler, registered together with the
//! route in [`crate::http::routes()`], so the document lists exactly the routes
//! the router serves. This module adds what no handler declares: the title,
//! the tags and the security schemes.

use bytes::Bytes;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_redoc::Redoc;

use crate::catalogue::fields::{ImageType, ServiceType, SortDir};

/// The parts of the document that no handler declares.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "easel: ModelArts v1 image management API",
        description = "A self-hosted image catalogue serving the ModelArts v1 image and image group operations. \
Every `/v1/{project_id}/...` operation needs AK/SK signing or a token. Errors have the body \
`{\"error_code\": \"ModelArts.NNNN\", \"error_msg\": \"...\"}`; every response carries `X-Request-Id`. \
Times are UTC milliseconds since the epoch. Enumerated values are accepted in any letter case and returned upper case.",
    ),
    // The listing parameters refer to these; utoipa collects only the schemas of bodies.
    components(schemas(ImageType, ServiceType, SortDir)),
    tags(
        (name = "images", description = "Register, list, show, delete and synchronize images."),
        (name = "groups", description = "Image groups: every visible image sharing a scope, a namespace and a name."),
        (name = "service", description = "Health, metrics, this document and the registry's notifications."),
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "ak_sk",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`SDK-HMAC-SHA256 Access=AK, SignedHeaders=h1;h2, Signature=HEX`, with the signing time in \
`X-Sdk-Date: YYYYMMDDTHHMMSSZ` (at most 15 minutes from the server clock), as the Huawei Cloud SDKs sign. \
`X-Project-Id`, when sent, must equal the path's project.",
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "A token issued for one project by `easel token create`.",
            ))),
        );
        components.add_security_scheme(
            "registry_events",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Bearer SECRET`, with the secret easel runs with (--registry-events-secret).",
            ))),
        );
    }
}

/// The rendered document and its docs page, built once when the router is.
#[derive(Clone)]
pub struct ApiDocument {
    pub json: Bytes,
    pub html: Bytes,
}

impl ApiDocument {
    /// Renders the document as JSON and as a Redoc page. The page embeds the
    /// document and loads the Redoc script and fonts from public CDNs when a
    /// browser opens it, so building easel downloads nothing.
    pub fn render(document: &utoipa::openapi::OpenApi) -> Self {
        let json = document.to_pretty_json().expect("the OpenAPI document serializes to JSON");
        let html = Redoc::new(document.clone()).to_html();
        ApiDocument { json: Bytes::from(json), html: Bytes::from(html) }
    }
}
