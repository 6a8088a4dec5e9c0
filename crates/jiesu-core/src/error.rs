//! The core's one error type, which the server maps onto HTTP statuses.

use jiesu_domain::calendar::CalendarError;
use jiesu_domain::draft::FieldError;
use jiesu_domain::workflow::WorkflowError;
use jiesu_store::StoreError;

/// Why a request to the desk failed.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The input is malformed: unknown codes, bad coordinates, empty text ... (every problem listed).
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The state machine or the actor's rights refuse the action.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// No such case.
    #[error("case {0} not found")]
    NotFound(i64),
    /// The case changed since the actor saw it (see [`crate::Desk::act_as_seen`]): nothing was
    /// done.
    #[error("case {id} changed since it was shown (event {seen}, now {now}): nothing was done")]
    Changed {
        /// Case id.
        id: i64,
        /// The latest event the actor saw.
        seen: u32,
        /// The latest event now.
        now: u32,
    },
    /// The case kept changing under us.
    #[error("case {0} is being changed by others; try again")]
    Busy(i64),
    /// A deadline could not be computed (e.g. the calendar has no data for the year).
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CoreError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(id) => CoreError::NotFound(id),
            other => CoreError::Store(other),
        }
    }
}

/// A single-field input error.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Invalid(vec![FieldError { field: field.into(), message: message.into() }])
}
