//! Harbor's list pagination: `page` (from 1) and `page_size` (default 10, at most 100), answered with
//! `X-Total-Count` and a `Link` header naming the previous and next pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use serde::Deserialize;

use super::error::ApiError;
use super::extract::Query;

const DEFAULT_PAGE_SIZE: i64 = 10;
const MAX_PAGE_SIZE: i64 = 100;

/// The `page` and `page_size` query parameters.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

/// A validated page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub size: i64,
}

impl PageQuery {
    pub fn page(self) -> Result<Page, ApiError> {
        let page = self.page.unwrap_or(1);
        let size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        if page < 1 {
            return Err(ApiError::BadRequest(format!(
                "page must be at least 1, not {page}"
            )));
        }
        if !(1..=MAX_PAGE_SIZE).contains(&size) {
            return Err(ApiError::BadRequest(format!(
                "page_size must be between 1 and {MAX_PAGE_SIZE}, not {size}"
            )));
        }
        Ok(Page { page, size })
    }
}

/// A handler taking `page: Page` gets the request's validated `page` and `page_size` (400 if invalid).
impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(query) = Query::<PageQuery>::from_request_parts(parts, state).await?;
        query.page()
    }
}

impl Page {
    pub fn limit(self) -> i64 {
        self.size
    }

    /// Saturating: a page number near `i64::MAX` is past the end of any list, not an overflow.
    pub fn offset(self) -> i64 {
        (self.page - 1).saturating_mul(self.size)
    }

    /// `X-Total-Count` and `Link` for this page of `total` items at `path` (with `query`, other parameters
    /// of the request, kept in the links).
    pub fn headers(self, total: i64, path: &str, query: &[(&str, String)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-total-count", HeaderValue::from(total));
        let link = |page: i64| {
            let mut params: Vec<(&str, String)> = query.to_vec();
            params.push(("page", page.to_string()));
            params.push(("page_size", self.size.to_string()));
            let query = serde_urlencoded::to_string(&params).unwrap_or_default();
            format!("<{path}?{query}>")
        };
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(format!("{}; rel=\"prev\"", link(self.page - 1)));
        }
        if self.page.saturating_mul(self.size) < total {
            links.push(format!("{}; rel=\"next\"", link(self.page + 1)));
        }
        if !links.is_empty()
            && let Ok(value) = HeaderValue::from_str(&links.join(" , "))
        {
            headers.insert("link", value);
        }
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_links() {
        let page = PageQuery {
            page: Some(2),
            page_size: Some(10),
        }
        .page()
        .unwrap_or(Page { page: 0, size: 0 });
        assert_eq!((page.limit(), page.offset()), (10, 10));
        let headers = page.headers(35, "/api/v2.0/projects", &[("name", "a b".to_owned())]);
        assert_eq!(headers["x-total-count"], "35");
        assert_eq!(
            headers["link"],
            "</api/v2.0/projects?name=a+b&page=1&page_size=10>; rel=\"prev\" , \
             </api/v2.0/projects?name=a+b&page=3&page_size=10>; rel=\"next\""
        );
        assert!(
            PageQuery {
                page: Some(0),
                page_size: None
            }
            .page()
            .is_err()
        );
        assert!(
            PageQuery {
                page: None,
                page_size: Some(101)
            }
            .page()
            .is_err()
        );
        let last = Page { page: 4, size: 10 }.headers(35, "/p", &[]);
        assert_eq!(last["link"], "</p?page=3&page_size=10>; rel=\"prev\"");
        let far = Page {
            page: i64::MAX,
            size: 100,
        };
        assert_eq!(far.offset(), i64::MAX);
        assert!(
            !far.headers(35, "/p", &[])["link"]
                .to_str()
                .unwrap_or_default()
                .contains("next")
        );
    }
}
