//! The OpenAPI document of the REST API, built from the route table in [`super`] and the schemas the wire
//! types in `berth-api` derive. It describes exactly what Berth serves: a route without a row in the table
//! does not exist, and a row's request and response types are the ones its handler uses.
//!
//! Served at `GET /openapi.json`; the paths are relative to the server URL `/api/v2.0`, as in Harbor's swagger.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Json;
use axum::response::IntoResponse;
use utoipa::ToSchema;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayBuilder, ComponentsBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{
    InfoBuilder, OpenApi, OpenApiBuilder, PathItem, Paths, Ref, RefOr, Required,
};

use super::BASE;

const JSON: &str = "application/json";

/// One route's documentation: its method, path and handler from the route table, plus what its row says
/// about the request and response bodies.
pub struct RouteDoc {
    method: &'static str,
    path: &'static str,
    handler: &'static str,
    body: Option<RefOr<Schema>>,
    /// `(status, response)`; empty means a bare `200 OK`.
    success: Vec<(&'static str, Response)>,
    query: Vec<(&'static str, Type, &'static str)>,
    schemas: Vec<(String, RefOr<Schema>)>,
    /// Path parameters that are strings although their names end in `_id` (Harbor's job and pool ids).
    text_ids: Vec<&'static str>,
    /// What the operation does beyond Harbor's API, for Berth's additions.
    description: Option<&'static str>,
}

impl RouteDoc {
    /// A route with no documented body: `200 OK` and Harbor's error responses.
    pub fn new(method: &'static str, path: &'static str, handler: &'static str) -> Self {
        RouteDoc {
            method,
            path,
            handler,
            body: None,
            success: Vec::new(),
            query: Vec::new(),
            schemas: Vec::new(),
            text_ids: Vec::new(),
            description: None,
        }
    }

    /// Marks the route as Berth's addition to Harbor's API, saying what it does.
    pub fn addition(mut self, description: &'static str) -> Self {
        self.description = Some(description);
        self
    }

    /// `200 OK` with a `text/plain` body (a job's log).
    pub fn text(mut self) -> Self {
        let response = ResponseBuilder::new()
            .description("Plain text")
            .content(
                "text/plain",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .build();
        self.success.push(("200", response));
        self
    }

    /// `200 OK` with a `text/csv` attachment (a CVE export).
    pub fn csv(mut self) -> Self {
        let response = ResponseBuilder::new()
            .description("A CSV file")
            .content(
                "text/csv",
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build(),
            )
            .header(
                "Content-Disposition",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some(
                        "attachment; filename=\"scandata_export_{execution_id}.csv\"",
                    ))
                    .build(),
            )
            .build();
        self.success.push(("200", response));
        self
    }

    /// The path parameter `name` is a string, although its name ends in `_id`.
    pub fn text_id(mut self, name: &'static str) -> Self {
        self.text_ids.push(name);
        self
    }

    /// The JSON request body is a `T`.
    pub fn body<T: ToSchema>(mut self) -> Self {
        self.body = Some(self.reference::<T>());
        self
    }

    /// `200 OK` with a `T`.
    pub fn ok<T: ToSchema>(mut self) -> Self {
        let schema = self.reference::<T>();
        self.success
            .push(("200", json_response("OK", schema).build()));
        self
    }

    /// `200 OK` with one page of `T`s: adds `page`, `page_size`, `q` and `sort`, and the `X-Total-Count` and
    /// `Link` headers.
    pub fn list<T: ToSchema>(self) -> Self {
        let mut doc = self.pages::<T>();
        doc.query.extend([
            (
                "q",
                Type::String,
                "Filter: k=v, k=~part, k=[min~max], k={v1 v2}, k=(v1 v2)",
            ),
            (
                "sort",
                Type::String,
                "Sort keys, comma separated; -key is descending",
            ),
        ]);
        doc
    }

    /// `200 OK` with one page of `T`s: adds `page` and `page_size`, and the `X-Total-Count` and `Link`
    /// headers (no filter, no sort).
    pub fn pages<T: ToSchema>(mut self) -> Self {
        let item = self.reference::<T>();
        let page = json_response(
            "One page of results",
            ArrayBuilder::new().items(item).into(),
        )
        .header(
            "X-Total-Count",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some("How many results there are in all"))
                .build(),
        )
        .header(
            "Link",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .description(Some("RFC 8288 links to the previous and next pages"))
                .build(),
        );
        self.success.push(("200", page.build()));
        self.query.extend([
            ("page", Type::Integer, "The page, from 1"),
            ("page_size", Type::Integer, "Results per page (at most 100)"),
        ]);
        self
    }

    /// `202 Accepted`: the work was queued (a scan).
    pub fn accepted(mut self) -> Self {
        let response = ResponseBuilder::new().description("Accepted").build();
        self.success.push(("202", response));
        self
    }

    /// `201 Created`, with a `Location` header naming the new resource.
    pub fn created(mut self) -> Self {
        let response = ResponseBuilder::new()
            .description("Created")
            .header(
                "Location",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("The new resource"))
                    .build(),
            )
            .build();
        self.success.push(("201", response));
        self
    }

    /// `201 Created` with a `T` in the body (a secret shown once, for example).
    pub fn created_with<T: ToSchema>(mut self) -> Self {
        let schema = self.reference::<T>();
        self.success
            .push(("201", json_response("Created", schema).build()));
        self
    }

    /// `200 OK` with an array of `T`, not paged.
    pub fn items<T: ToSchema>(mut self) -> Self {
        let item = self.reference::<T>();
        let array = ArrayBuilder::new().items(item).into();
        self.success
            .push(("200", json_response("OK", array).build()));
        self
    }

    /// An optional query parameter.
    pub fn query(mut self, name: &'static str, kind: Type, description: &'static str) -> Self {
        self.query.push((name, kind, description));
        self
    }

    /// A `$ref` to `T`'s schema, remembering `T` and what it refers to for the components.
    fn reference<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let name = T::name().into_owned();
        T::schemas(&mut self.schemas);
        self.schemas.push((name.clone(), T::schema()));
        RefOr::Ref(Ref::from_schema_name(name))
    }

    fn http_method(&self) -> Option<HttpMethod> {
        Some(match self.method {
            "get" => HttpMethod::Get,
            "head" => HttpMethod::Head,
            "post" => HttpMethod::Post,
            "put" => HttpMethod::Put,
            "patch" => HttpMethod::Patch,
            "delete" => HttpMethod::Delete,
            _ => return None,
        })
    }

    fn operation(&self) -> Operation {
        // `projects::list` → tag `projects`, operation id `projects_list`.
        let handler: String = self.handler.split_whitespace().collect();
        let tag = handler.split("::").next().unwrap_or_default().to_owned();
        let mut operation = OperationBuilder::new()
            .tag(tag)
            .operation_id(Some(handler.replace("::", "_")))
            .description(self.description);
        for name in path_parameters(self.path) {
            let kind = if self.text_ids.contains(&name) {
                Type::String
            } else if matches!(name, "id" | "eid" | "tid")
                || (name.ends_with("_id") && !name.contains("name"))
            {
                Type::Integer
            } else {
                Type::String
            };
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .schema(Some(ObjectBuilder::new().schema_type(kind))),
            );
        }
        for (name, kind, description) in &self.query {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(*description))
                    .schema(Some(ObjectBuilder::new().schema_type(kind.clone()))),
            );
        }
        if let Some(body) = &self.body {
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        JSON,
                        ContentBuilder::new().schema(Some(body.clone())).build(),
                    )
                    .build(),
            ));
        }
        if self.success.is_empty() {
            operation = operation.response("200", ResponseBuilder::new().description("OK").build());
        }
        for (status, response) in &self.success {
            operation = operation.response(*status, response.clone());
        }
        let errors = json_response(
            "Harbor's error envelope, {\"errors\":[{\"code\",\"message\"}]}",
            RefOr::Ref(Ref::from_schema_name("ErrorResponse")),
        )
        .build();
        operation.response("default", errors).build()
    }
}

fn json_response(description: &str, schema: RefOr<Schema>) -> ResponseBuilder {
    ResponseBuilder::new()
        .description(description)
        .content(JSON, ContentBuilder::new().schema(Some(schema)).build())
}

/// The `{name}` segments of a route path, in order.
fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// The whole document.
pub fn document() -> OpenApi {
    let routes = super::route_docs();
    let mut schemas: BTreeMap<String, RefOr<Schema>> = BTreeMap::new();
    let mut error_schemas = Vec::new();
    let mut by_path: BTreeMap<&str, Vec<(HttpMethod, Operation)>> = BTreeMap::new();
    for route in &routes {
        let Some(method) = route.http_method() else {
            continue;
        };
        by_path
            .entry(route.path)
            .or_default()
            .push((method, route.operation()));
        schemas.extend(route.schemas.iter().cloned());
    }
    <berth_api::ErrorResponse as ToSchema>::schemas(&mut error_schemas);
    schemas.extend(error_schemas);
    schemas.insert(
        "ErrorResponse".to_owned(),
        <berth_api::ErrorResponse as utoipa::PartialSchema>::schema(),
    );

    let mut paths = Paths::new();
    for (path, operations) in by_path {
        let mut item: Option<PathItem> = None;
        for (method, operation) in operations {
            let next = PathItem::new(method, operation);
            match &mut item {
                None => item = Some(next),
                Some(item) => item.merge_operations(next),
            }
        }
        if let Some(item) = item {
            paths.paths.insert(path.to_owned(), item);
        }
    }

    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Berth REST API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "The subset of Harbor's REST API v2.0 that Berth implements, with Harbor's paths, \
                     parameters, field names and error shape. Sign in with HTTP Basic, or with the session \
                     cookie from POST /c/login plus the X-Harbor-CSRF-Token header on changes.",
                ))
                .build(),
        )
        .servers(Some([Server::new(BASE)]))
        .paths(paths)
        .components(Some(components))
        .security(Some([SecurityRequirement::new("basic", Vec::<String>::new())]))
        .build()
}

/// Built once, on first request.
static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(document);

/// `GET /openapi.json`.
pub async fn serve() -> impl IntoResponse {
    Json(&*DOCUMENT)
}
