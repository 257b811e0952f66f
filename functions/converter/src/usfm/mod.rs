//! USFM: the book table, the chapter/verse checks and the HTML renderer.

pub mod books;
pub mod check;
mod diagnose;
mod leaks;
mod milestone;
mod refs;
pub mod render;
mod text;

pub use books::{BOOKS, Book, by_code, from_name};
pub use refs::BookLinks;
pub use render::{ChapterRef, RenderedBook, Site, render_book, render_book_in};
