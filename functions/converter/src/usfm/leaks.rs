//! Markup that reached the page as text: counted per kind while rendering,
//! reported once per kind per file (the first place, and how many more), so a
//! file with thousands of them gives one readable warning.

use crate::warnings::FileWarnings;

/// A kind of markup written as text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Leak {
    /// `&#1488;`: an HTML character reference; USFM is plain text.
    Entity,
    /// `|x-occurrence="1"`: word attributes outside the marker that owns them.
    Attribute,
}

impl Leak {
    const ALL: [Leak; 2] = [Leak::Entity, Leak::Attribute];

    fn message(self) -> &'static str {
        match self {
            Leak::Entity => {
                "an HTML character reference (&…;) in the text is shown as typed: USFM is plain text, write the character itself"
            }
            Leak::Attribute => {
                "word attributes (|…=\"…\") outside their marker are shown as text: check the \\w or milestone before them"
            }
        }
    }
}

/// First offset and count of each kind.
#[derive(Debug, Default)]
pub struct Leaks {
    seen: [Option<(usize, usize)>; 2],
}

impl Leaks {
    /// Records one at byte `offset` of the source.
    pub fn record(&mut self, kind: Leak, offset: usize) {
        let slot = &mut self.seen[kind as usize];
        match slot {
            Some((_, n)) => *n += 1,
            None => *slot = Some((offset, 1)),
        }
    }

    /// The first offset and the count of `kind`, if any.
    pub fn first(&self, kind: Leak) -> Option<(usize, usize)> {
        self.seen[kind as usize]
    }

    /// One warning per kind seen.
    pub fn report(&self, w: &mut FileWarnings) {
        for kind in Leak::ALL {
            if let Some((at, n)) = self.first(kind) {
                w.at(at, format_args!("{}{}", kind.message(), more(n)));
            }
        }
    }
}

/// ` (and N more in this file)` when there are more.
pub fn more(n: usize) -> String {
    if n > 1 {
        format!(" (and {} more in this file)", n - 1)
    } else {
        String::new()
    }
}
