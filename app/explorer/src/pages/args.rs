//! Query-string arguments of the pages' endpoints: pagination, sort order,
//! keyset cursors. Each refusal names the argument and what it takes.

use crate::http::{Request, Response};

/// Rows per page unless `per_page` says otherwise, and at most.
pub const PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 500;

/// A page of a listing: 1-based page number and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    /// Rows to skip before this page.
    pub fn offset(&self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// LIMIT and OFFSET as SQL parameters (BIGINT).
    pub fn limit_offset(&self) -> (i64, i64) {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        (clamp(self.per_page), clamp(self.offset()))
    }
}

/// `?name=` as a whole number from `min`, or `default` when absent.
pub fn number(request: &Request, name: &str, default: u64, min: u64) -> Result<u64, Response> {
    match request.param(name) {
        None | Some("") => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .ok()
            .filter(|n| *n >= min)
            .ok_or_else(|| {
                Response::error(400, format!("?{name}= must be a whole number from {min}"))
            }),
    }
}

/// `?page=` and `?per_page=` (the latter capped at [`MAX_PER_PAGE`]).
pub fn page(request: &Request) -> Result<Page, Response> {
    Ok(Page {
        page: number(request, "page", 1, 1)?,
        per_page: number(request, "per_page", PER_PAGE, 1)?.min(MAX_PER_PAGE),
    })
}

/// How the members table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSort {
    Join,
    Referral,
    Balance,
    Downline,
}

impl MemberSort {
    pub fn name(self) -> &'static str {
        match self {
            MemberSort::Join => "join",
            MemberSort::Referral => "referral",
            MemberSort::Balance => "balance",
            MemberSort::Downline => "downline",
        }
    }
}

/// `?sort=join|referral|balance|downline` (default join) and
/// `?order=asc|desc` (default asc for join, desc for the others: the
/// biggest first is what one sorts by an amount for).
pub fn member_sort(request: &Request) -> Result<(MemberSort, bool), Response> {
    let sort = match request.param("sort").unwrap_or("join") {
        "" | "join" => MemberSort::Join,
        "referral" => MemberSort::Referral,
        "balance" => MemberSort::Balance,
        "downline" => MemberSort::Downline,
        other => {
            return Err(Response::error(
                400,
                format!("?sort={other}: sort by join, referral, balance or downline"),
            ))
        }
    };
    let descending = match request.param("order") {
        None | Some("") => sort != MemberSort::Join,
        Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(Response::error(
                400,
                format!("?order={other}: the order is asc or desc"),
            ))
        }
    };
    Ok((sort, descending))
}

/// A position in a member's credits, newest first: the credit at
/// (position, ordinal, credit number); the next page starts after it.
/// Written `position:ordinal:credit` in `?before=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditCursor {
    pub position: i64,
    pub ordinal: i64,
    /// The credit's number within its event.
    pub credit: i64,
}

impl CreditCursor {
    pub fn text(&self) -> String {
        format!("{}:{}:{}", self.position, self.ordinal, self.credit)
    }

    pub fn parse(text: &str) -> Option<CreditCursor> {
        let mut parts = text.splitn(3, ':');
        let position = parts.next()?.parse().ok()?;
        let ordinal = parts.next()?.parse().ok()?;
        let credit = parts.next()?.parse().ok()?;
        Some(CreditCursor {
            position,
            ordinal,
            credit,
        })
    }
}

/// `?before=` (absent: from the newest).
pub fn credit_cursor(request: &Request) -> Result<Option<CreditCursor>, Response> {
    match request.param("before") {
        None | Some("") => Ok(None),
        Some(text) => CreditCursor::parse(text).map(Some).ok_or_else(|| {
            Response::error(
                400,
                format!("?before={text}: pass the `next` value of the previous page"),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_head;

    fn request(query: &str) -> Request {
        parse_head(&format!("GET /x?{query} HTTP/1.1")).expect("a request")
    }

    fn refusal<T>(r: Result<T, Response>) -> String {
        match r {
            Ok(_) => panic!("accepted"),
            Err(response) => {
                assert_eq!(response.status, 400);
                response.body
            }
        }
    }

    fn accepted<T>(r: Result<T, Response>) -> T {
        match r {
            Ok(value) => value,
            Err(response) => panic!("refused: {}", response.body),
        }
    }

    #[test]
    fn pages_default_cap_and_refuse_by_name() {
        assert_eq!(
            accepted(page(&request(""))),
            Page {
                page: 1,
                per_page: PER_PAGE
            }
        );
        let p = accepted(page(&request("page=3&per_page=20")));
        assert_eq!((p.offset(), p.limit_offset()), (40, (20, 40)));
        assert_eq!(
            accepted(page(&request("per_page=100000"))).per_page,
            MAX_PER_PAGE
        );
        assert!(refusal(page(&request("page=0"))).contains("?page= must be a whole number from 1"));
        assert!(refusal(page(&request("per_page=ten"))).contains("?per_page="));
        let huge = Page {
            page: u64::MAX,
            per_page: MAX_PER_PAGE,
        };
        assert_eq!(huge.limit_offset().1, i64::MAX);
    }

    #[test]
    fn member_sorts_default_to_the_natural_direction() {
        assert_eq!(
            accepted(member_sort(&request(""))),
            (MemberSort::Join, false)
        );
        assert_eq!(
            accepted(member_sort(&request("sort=referral"))),
            (MemberSort::Referral, true)
        );
        assert_eq!(
            accepted(member_sort(&request("sort=balance&order=asc"))),
            (MemberSort::Balance, false)
        );
        assert!(refusal(member_sort(&request("sort=name")))
            .contains("join, referral, balance or downline"));
        assert!(refusal(member_sort(&request("order=up"))).contains("asc or desc"));
    }

    #[test]
    fn credit_cursors_round_trip_and_refuse_garbage() {
        let c = CreditCursor {
            position: 12,
            ordinal: 3,
            credit: 1,
        };
        assert_eq!(CreditCursor::parse(&c.text()), Some(c));
        assert_eq!(CreditCursor::parse("12:3:"), None);
        assert_eq!(CreditCursor::parse("12:3:level1"), None);
        assert_eq!(CreditCursor::parse("x:3:work"), None);
        assert!(refusal(credit_cursor(&request("before=nope"))).contains("`next`"));
        assert_eq!(accepted(credit_cursor(&request(""))), None);
    }
}
