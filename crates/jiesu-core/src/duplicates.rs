//! Duplicate suggestions at intake: the open cases near a new one in space and time, scored by
//! [`jiesu_intake::dups`] (text, distance, time, category) so that the operator can merge the new
//! case into one of them (`Command::Merge`, the workflow's 合并) or go on.

use chrono::{DateTime, Duration, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::draft::{Contact, NewCase};
use jiesu_domain::model::Status;
use jiesu_intake::dups::{Incident, Point, Reasons, Scorer};
use jiesu_store::{CaseRecord, NearbyQuery};
use serde::Serialize;

use crate::{CoreError, Desk};

/// How far and how far back open cases are compared with a new case.
pub const SEARCH_RADIUS_M: f64 = 1_000.0;
/// Days back.
pub const SEARCH_DAYS: i64 = 30;
/// Open cases fetched at most (newest first).
const FETCH_LIMIT: u32 = 500;
/// Suggestions returned at most.
pub const MAX_SUGGESTIONS: usize = 10;

/// An open case that may be the same incident as a new one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateSuggestion {
    /// The open case (the master to merge into).
    pub case_id: i64,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: Status,
    /// Confidence in [0, 1] that it is the same incident.
    pub confidence: f64,
    /// True when the confidence reaches the scorer's threshold (suggest merging).
    pub likely: bool,
    /// Metres and hours apart, text similarity, category match.
    pub reasons: Reasons,
    /// The candidate's contact, for masking its title where the caller may not see it (never
    /// serialised).
    #[serde(skip)]
    pub contact: Contact,
}

fn text_of(case: &NewCase) -> String {
    // The stored title is the display title: use it on both sides so that they compare alike.
    format!("{} {} {}", case.display_title(), case.text, case.place.address.as_deref().unwrap_or(""))
}

impl Desk {
    fn incident(&self, case: &NewCase, at: DateTime<Utc>) -> Incident {
        let group = self.catalog.category(&case.category).and_then(|c| c.parent.as_deref());
        let point = case.place.lat.zip(case.place.lon).map(|(lat, lon)| Point { lat, lon });
        Incident::new(&text_of(case), &case.category, group, point, at)
    }

    /// The open cases within [`SEARCH_RADIUS_M`] of `case`'s point received in the
    /// [`SEARCH_DAYS`] before `now`, most likely duplicate first (at most [`MAX_SUGGESTIONS`]).
    /// A case without a point gets none. `exclude` leaves out a case (the new one, once stored).
    /// Only cases within `scope` are candidates (the caller's: a unit handler never learns of
    /// another unit's case here).
    pub async fn duplicate_candidates(
        &self,
        scope: &Scope,
        case: &NewCase,
        now: DateTime<Utc>,
        exclude: Option<i64>,
    ) -> Result<Vec<DuplicateSuggestion>, CoreError> {
        let (Some(lat), Some(lon)) = (case.place.lat, case.place.lon) else { return Ok(Vec::new()) };
        let query = NearbyQuery {
            lat,
            lon,
            radius_m: SEARCH_RADIUS_M,
            received_from: now - Duration::days(SEARCH_DAYS),
            received_to: now + Duration::milliseconds(1),
            category: None,
            limit: FETCH_LIMIT,
        };
        let open: Vec<CaseRecord> =
            self.store.open_cases_near_in(scope, &query).await?.into_iter().filter(|r| Some(r.id) != exclude).collect();
        let incidents: Vec<Incident> = open.iter().map(|r| self.incident(&r.case, r.state.received_at)).collect();
        let scorer = Scorer::default();
        let new = self.incident(case, now);
        Ok(scorer
            .rank(&new, open.iter().zip(&incidents))
            .into_iter()
            .filter(|c| c.reasons.distance_m.is_some_and(|d| d <= SEARCH_RADIUS_M))
            .take(MAX_SUGGESTIONS)
            .map(|c| DuplicateSuggestion {
                case_id: c.key.id,
                title: c.key.case.display_title(),
                status: c.key.state.status,
                confidence: c.confidence,
                likely: c.likely,
                reasons: c.reasons,
                contact: c.key.case.contact.clone(),
            })
            .collect())
    }
}
