//! translationQuestions: the Markdown layout per book/chapter/chunk (or one
//! file per book), one page per book.

use super::{Context, helps};
use crate::error::ConvertError;
use crate::page::Emit;

/// Runs the tQ preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, _notes: &mut Vec<String>) -> Result<(), ConvertError> {
    if helps::run(ctx, "tq", emit)? == 0 {
        return Err(ConvertError::Empty(
            "no translationQuestions books (BOOK/CC/VV.md or BOOK.md)".into(),
        ));
    }
    Ok(())
}
