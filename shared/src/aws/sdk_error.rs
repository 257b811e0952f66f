//! Turning SDK errors into the one-line messages the ports carry.
//!
//! An `SdkError`'s `Display` is only "service error"; the cause chain holds the
//! code and message a person needs (`ResourceNotFoundException: Requested
//! resource not found`), so every adapter renders errors through here.

use aws_sdk_dynamodb::error::DisplayErrorContext;

/// The error and all its causes on one line.
pub fn describe<E: std::error::Error>(err: &E) -> String {
    DisplayErrorContext(err).to_string()
}
