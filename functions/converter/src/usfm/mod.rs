//! USFM: the book table, the chapter/verse checks and the HTML renderer.

pub mod books;
pub mod check;
pub mod render;

pub use books::{BOOKS, Book, by_code, from_name};
pub use render::{ChapterRef, RenderedBook, render_book};
