//! `GET /openapi.json` and `GET /docs`: the generated document is valid
//! OpenAPI 3, lists exactly the routes the router serves, and describes
//! every field, enumeration and error code of the contract.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

/// Every operation the service offers: method, path template and operation id.
const OPERATIONS: &[(&str, &str, &str)] = &[
    ("post", "/v1/{project_id}/images", "RegisterImage"),
    ("get", "/v1/{project_id}/images", "ListImage"),
    ("get", "/v1/{project_id}/images/{id}", "ShowImage"),
    ("delete", "/v1/{project_id}/images/{id}", "DeleteImage"),
    ("post", "/v1/{project_id}/images/{id}/sync", "SyncImage"),
    ("get", "/v1/{project_id}/images/group", "ListImageGroup"),
    ("put", "/v1/{project_id}/images/group/{id}", "UpdateImageGroup"),
    ("delete", "/v1/{project_id}/images/group/{id}", "DeleteImageGroup"),
    ("get", "/health", "Health"),
    ("get", "/metrics", "Metrics"),
    ("get", "/openapi.json", "OpenApiDocument"),
    ("get", "/docs", "Docs"),
    ("post", "/registry/events", "ReceiveRegistryEvents"),
];

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn served_document(app: &TestApp) -> Value {
    let reply = app.send_raw("GET", "/openapi.json", "", Vec::new(), &[]).await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.ok()
}

/// Returns `(method, path)` of every operation in the document.
fn operations_of(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("the document has paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        for method in HTTP_METHODS {
            if item.get(*method).is_some() {
                operations.insert(((*method).to_owned(), path.clone()));
            }
        }
    }
    operations
}

/// Collects every `$ref` value in the document.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                match (key.as_str(), field) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => references(field, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| references(item, found)),
        _ => {}
    }
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][name];
    assert!(schema.is_object(), "components.schemas has no {name}");
    schema
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    schema["properties"].as_object().expect("the schema has properties").keys().cloned().collect()
}

fn enum_values(document: &Value, name: &str) -> Vec<String> {
    schema(document, name)["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name} is not an enumeration"))
        .iter()
        .map(|value| value.as_str().expect("enumeration values are strings").to_owned())
        .collect()
}

#[tokio::test]
async fn openapi_document_is_valid_openapi_3() {
    let app = spawn_app().await;

    let document = served_document(&app).await;

    let version = document["openapi"].as_str().expect("the document names its OpenAPI version");
    assert!(version.starts_with("3."), "OpenAPI version {version}");
    let parsed: Result<utoipa::openapi::OpenApi, _> = serde_json::from_value(document.clone());
    assert!(parsed.is_ok(), "the document does not parse as OpenAPI: {:?}", parsed.err());
    let mut targets = Vec::new();
    references(&document, &mut targets);
    assert!(!targets.is_empty(), "the document has no references to check");
    for target in targets {
        let name = target.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {target}"));
        schema(&document, name);
    }
}

#[tokio::test]
async fn openapi_document_lists_every_operation() {
    let app = spawn_app().await;

    let document = served_document(&app).await;

    let expected: BTreeSet<(String, String)> =
        OPERATIONS.iter().map(|(method, path, _)| ((*method).to_owned(), (*path).to_owned())).collect();
    assert_eq!(operations_of(&document), expected);
    for (method, path, operation_id) in OPERATIONS {
        assert_eq!(document["paths"][path][method]["operationId"], *operation_id, "{method} {path}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    let app = spawn_app().await;
    let document = served_document(&app).await;

    for (method, path) in operations_of(&document) {
        let method = method.to_uppercase();
        let concrete = path.replace("{project_id}", &app.project.id).replace("{id}", &uuid::Uuid::nil().to_string());
        let reply = app.send_raw(&method, &concrete, "", Vec::new(), &[]).await;

        let fallback_message = format!("No API operation at {method} {concrete}.");
        assert_ne!(reply.body["error_msg"], fallback_message.as_str(), "{method} {concrete} reached the fallback");
        assert_ne!(reply.status, 405, "{method} {concrete}: {}", reply.text);
        if path.starts_with("/v1/") {
            assert_eq!(reply.status, 401, "{method} {concrete}: {}", reply.text);
        } else if method == "GET" {
            assert_eq!(reply.status, 200, "{method} {concrete}: {}", reply.text);
        }
    }
}

#[tokio::test]
async fn openapi_document_describes_contract_fields() {
    let app = spawn_app().await;

    let document = served_document(&app).await;

    let image_fields = property_names(schema(&document, "ImageResponse"));
    for field in [
        "arch", "create_at", "description", "dev_services", "id", "name", "namespace", "origin",
        "resource_categories", "service_type", "size", "status", "status_message", "swr_path", "tag", "type",
        "update_at", "visibility", "workspace_id", "flavor_type", "swr_instance_id", "show_name", "show_tag", "tags",
    ] {
        assert!(image_fields.contains(field), "ImageResponse lacks {field}");
    }
    let group_fields = property_names(schema(&document, "ImageGroup"));
    for field in [
        "id", "name", "namespace", "create_at", "update_at", "version_count", "description", "read_me", "icon_name",
        "swr_instance_id", "swr_instance_name",
    ] {
        assert!(group_fields.contains(field), "ImageGroup lacks {field}");
    }
    let register_fields = property_names(schema(&document, "ImageRegRequest"));
    for field in [
        "swr_path", "arch", "description", "origin", "resource_category", "service_type", "services", "visibility",
        "workspace_id", "flavor_type", "tags", "swr_instance_id", "read_me",
    ] {
        assert!(register_fields.contains(field), "ImageRegRequest lacks {field}");
    }
    assert_eq!(property_names(schema(&document, "UpdateImageGroupRequest")), BTreeSet::from(["read_me".into(), "tags".into()]));
    assert_eq!(property_names(schema(&document, "DeleteRequest")), BTreeSet::from(["is_force".into()]));
    for listing in ["Listing_ImageResponse", "Listing_ImageGroup"] {
        let fields = property_names(schema(&document, listing));
        assert_eq!(fields, ["current", "data", "pages", "size", "total"].map(String::from).into());
    }
}

#[tokio::test]
async fn openapi_document_describes_contract_enums() {
    let app = spawn_app().await;

    let document = served_document(&app).await;

    assert_eq!(enum_values(&document, "Arch"), ["X86_64", "AARCH64"]);
    assert_eq!(enum_values(&document, "Origin"), ["CUSTOMIZE", "IMAGE_SAVE"]);
    assert_eq!(enum_values(&document, "ResourceCategory"), ["CPU", "GPU", "ASCEND"]);
    assert_eq!(enum_values(&document, "ServiceType"), ["COMMON", "INFERENCE", "TRAIN", "DEV", "UNKNOWN"]);
    assert_eq!(enum_values(&document, "ImageType"), ["BUILD_IN", "DEDICATED"]);
    assert_eq!(enum_values(&document, "Visibility"), ["PRIVATE", "PUBLIC"]);
    assert_eq!(
        enum_values(&document, "ImageStatus"),
        ["INIT", "CREATING", "CREATE_FAILED", "ERROR", "DELETED", "ACTIVE"]
    );
    assert!(enum_values(&document, "DevService").starts_with(&["NOTEBOOK".into(), "SSH".into()]));
    assert_eq!(enum_values(&document, "SortDir"), ["ASC", "DESC"]);
}

#[tokio::test]
async fn openapi_document_names_every_error_code() {
    let app = spawn_app().await;

    let document = served_document(&app).await;

    let text = document.to_string();
    for code in [
        "ModelArts.0101", "ModelArts.6400", "ModelArts.0210", "ModelArts.6737", "ModelArts.2810", "ModelArts.6303",
        "ModelArts.0201", "ModelArts.0202", "ModelArts.0203", "ModelArts.0206", "ModelArts.0108", "ModelArts.6797",
        "ModelArts.6699", "ModelArts.0010",
    ] {
        assert!(text.contains(code), "the document never mentions {code}");
    }
    let error_fields = property_names(schema(&document, "Error"));
    assert_eq!(error_fields, BTreeSet::from(["error_code".into(), "error_msg".into()]));
    let list_params: Vec<&str> = document["paths"]["/v1/{project_id}/images/group"]["get"]["parameters"]
        .as_array()
        .expect("the group listing has parameters")
        .iter()
        .filter_map(|parameter| parameter["name"].as_str())
        .collect();
    for name in ["name", "name_fuzzy_match", "namespace", "type", "workspace_id", "limit", "offset", "swr_instance_id"] {
        assert!(list_params.contains(&name), "the group listing lacks the parameter {name}");
    }
}

#[tokio::test]
async fn docs_page_renders_the_document() {
    let app = spawn_app().await;

    let reply = app.send_raw("GET", "/docs", "", Vec::new(), &[]).await;

    assert_eq!(reply.status, 200);
    assert!(reply.header("content-type").is_some_and(|value| value.starts_with("text/html")));
    assert!(reply.text.contains("Redoc.init"), "{}", &reply.text[..reply.text.len().min(300)]);
    assert!(reply.text.contains("RegisterImage"), "the page does not embed the document");
}
