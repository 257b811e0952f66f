//! Open Bible Stories: one page per story (`01.html` … `50.html`) plus
//! `front.html`/`back.html`, from any of the layouts in use — RC
//! `content/NN.md`, chunked `content/NN/FF.md`, or translationStudio frames
//! `NN/FF.txt` with `title.txt` and `reference.txt`. Damaged stories (missing
//! stories or frames) are converted with warnings.

use super::{Context, numeric_key};
use crate::error::ConvertError;
use crate::markdown::{self, MdOptions};
use crate::page::{Emit, Page, nav};
use crate::usfm::check::compress_ranges;

/// Stories in the canonical OBS.
pub const STORIES: u32 = 50;

fn is_num(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Frame numbers shown by the standard OBS image links (`obs-en-01-02.jpg`).
fn image_frames(text: &str, story: u32) -> Vec<u32> {
    let mut frames = Vec::new();
    let tag = format!("-{story:02}-");
    let mut rest = text;
    while let Some(at) = rest.find(".jpg") {
        let before = &rest[..at];
        if let Some(p) = before.rfind(&tag) {
            let digits = &before[p + tag.len()..];
            if is_num(digits)
                && let Ok(n) = digits.parse()
            {
                frames.push(n);
            }
        }
        rest = &rest[at + 4..];
    }
    frames
}

fn check_frames(name: &str, frames: &[u32], warnings: &mut Vec<String>) {
    if frames.is_empty() {
        return;
    }
    let max = frames.iter().copied().max().unwrap_or(0);
    let missing: Vec<u32> = (1..=max).filter(|f| !frames.contains(f)).collect();
    if !missing.is_empty() {
        warnings.push(format!("{name}: missing frames {}", compress_ranges(&missing)));
    }
}

/// How many words of a frame's text its image's alt text quotes.
const ALT_WORDS: usize = 8;

/// Gives every frame image (`![…](…obs-en-01-02.jpg)` on a line of its own)
/// an alt text that says what it shows, `Open Bible Stories 1-2: This is how
/// the beginning of everything happened…`: the resource's title, the
/// frame's reference and the first words of the frame's text (the paragraph
/// after the image), instead of the same "OBS Image" for all 598 pictures,
/// which tells a reader who cannot see them nothing.
pub fn frame_alt_texts(text: &str, story: u32, resource: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let image = l
            .strip_prefix("![")
            .and_then(|r| r.split_once("]("))
            .filter(|_| l.ends_with(')'))
            .map(|(_, url)| &url[..url.len() - 1]);
        let frame = image.and_then(|url| image_frames(url, story).first().copied());
        let (Some(url), Some(frame)) = (image, frame) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let words: Vec<&str> = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with("!["))
            .unwrap_or("")
            .split_whitespace()
            .collect();
        out.push_str("![");
        out.push_str(&alt_safe(resource));
        out.push_str(&format!(" {story}-{frame}"));
        if !words.is_empty() {
            out.push_str(": ");
            out.push_str(&alt_safe(&words[..words.len().min(ALT_WORDS)].join(" ")));
            if words.len() > ALT_WORDS {
                out.push('…');
            }
        }
        out.push_str("](");
        out.push_str(url);
        out.push_str(")\n");
    }
    out
}

/// Text fit for a Markdown image's alt: without the characters that would
/// end it or format it (`]`, `*`, `_`, …), which alt text cannot show anyway.
fn alt_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '[' | ']' | '*' | '_' | '\\' | '`' | '<' | '>' | '!' | '&'))
        .collect()
}

fn story_page(
    story: u32,
    text: &str,
    sources: Vec<String>,
    mut warnings: Vec<String>,
    frames: Option<Vec<u32>>,
    resource: &str,
) -> Page {
    let name = format!("{story:02}.html");
    let label = sources.first().cloned().unwrap_or_else(|| name.clone());
    let frames = frames.unwrap_or_else(|| image_frames(text, story));
    check_frames(&label, &frames, &mut warnings);
    if text.trim().is_empty() {
        warnings.push(format!("{label}: empty story"));
    }
    let title = markdown::first_heading(text).unwrap_or_else(|| format!("Story {story}"));
    let text = frame_alt_texts(text, story, resource);
    let mut html = format!("<div class=\"obs-story\" id=\"story-{story:02}\">\n");
    html.push_str(&markdown::render(
        &text,
        &MdOptions {
            id_prefix: "obs-",
            ..MdOptions::default()
        },
    ));
    html.push_str("</div>\n");
    Page {
        nav: nav(title, name.clone(), vec![]),
        name,
        html,
        sources,
        warnings,
    }
}

fn matter_page(ctx: &Context, which: &str, files: Vec<String>) -> Result<Option<Page>, ConvertError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut warnings = Vec::new();
    let mut text = String::new();
    for f in &files {
        text.push_str(&ctx.read(f, &mut warnings)?);
        text.push_str("\n\n");
    }
    let name = format!("{which}.html");
    // The front matter's first heading is a subheading deep inside it
    // ("Notices:"); its title is the `front/title` file where there is one,
    // else the resource's own title.
    let title_file = files
        .iter()
        .find(|f| f.ends_with("/title.md") || f.ends_with("/title.txt"))
        .and_then(|f| ctx.read_opt(f));
    let title = match which {
        "front" => title_file
            .map(|t| t.trim_start_matches('#').trim().to_string())
            .filter(|t| !t.is_empty())
            .or_else(|| Some(ctx.manifest.title.trim().to_string()).filter(|t| !t.is_empty()))
            .unwrap_or_else(|| "Front Matter".into()),
        _ => markdown::first_heading(&text).unwrap_or_else(|| "Back Matter".into()),
    };
    let html = markdown::render(
        &text,
        &MdOptions {
            id_prefix: "obs-",
            ..MdOptions::default()
        },
    );
    Ok(Some(Page {
        nav: nav(title, name.clone(), vec![]),
        name,
        html,
        sources: files,
        warnings,
    }))
}

/// Runs the OBS preprocessor.
pub fn run(ctx: &Context, emit: &mut Emit, notes: &mut Vec<String>) -> Result<(), ConvertError> {
    let tree = ctx.tree;
    let base = if tree.under("content").next().is_some() {
        "content"
    } else {
        ""
    };
    let strip = |f: &str| -> String {
        if base.is_empty() {
            f.to_string()
        } else {
            f[base.len() + 1..].to_string()
        }
    };
    let mut front = Vec::new();
    let mut back = Vec::new();
    let mut stories: Vec<(u32, Vec<String>)> = Vec::new();
    for f in tree.under(base) {
        let rel = strip(f);
        let first = rel.split('/').next().unwrap_or("");
        let first_stem = first.split('.').next().unwrap_or("");
        if matches!(first, "front" | "_front") && (rel.ends_with(".md") || rel.ends_with(".txt")) {
            front.push(f.clone());
        } else if matches!(first, "back" | "_back") && (rel.ends_with(".md") || rel.ends_with(".txt")) {
            back.push(f.clone());
        } else if is_num(first_stem) && (rel.ends_with(".md") || rel.ends_with(".txt")) {
            let n: u32 = first_stem.parse().unwrap_or(0);
            match stories.iter_mut().find(|(s, _)| *s == n) {
                Some((_, v)) => v.push(f.clone()),
                None => stories.push((n, vec![f.clone()])),
            }
        }
    }
    stories.sort();
    let resource = match ctx.manifest.title.trim() {
        "" => "Open Bible Stories",
        t => t,
    };
    let present: Vec<u32> = stories.iter().map(|(n, _)| *n).collect();
    let missing: Vec<u32> = (1..=STORIES).filter(|n| !present.contains(n)).collect();
    if !missing.is_empty() {
        notes.push(format!("missing stories: {}", compress_ranges(&missing)));
    }
    if stories.is_empty() {
        return Err(ConvertError::Empty(
            "no Open Bible Stories found (content/NN.md, content/NN/FF.md or NN/FF.txt)".into(),
        ));
    }
    for (story, files) in stories {
        let mut warnings = Vec::new();
        let single = files.len() == 1 && !files[0][base.len()..].trim_start_matches('/').contains('/');
        if single {
            let text = ctx.read(&files[0], &mut warnings)?;
            emit(story_page(story, &text, files, warnings, None, resource))?;
            continue;
        }
        // Chunked story: title, frames in order, reference.
        let dir = files[0]
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();
        let title = ctx
            .read_opt(&format!("{dir}/title.txt"))
            .or_else(|| ctx.read_opt(&format!("{dir}/title.md")));
        let reference = ctx
            .read_opt(&format!("{dir}/reference.txt"))
            .or_else(|| ctx.read_opt(&format!("{dir}/reference.md")));
        let mut frames: Vec<(u32, &String)> = files
            .iter()
            .filter_map(|f| {
                let name = f.rsplit('/').next().unwrap_or(f);
                let stem = name.split('.').next().unwrap_or("");
                is_num(stem).then(|| (numeric_key(name).0, f))
            })
            .collect();
        frames.sort();
        let mut text = String::new();
        if let Some(t) = &title {
            let t = t.trim_start_matches('#').trim();
            text.push_str(&format!("# {t}\n\n"));
        }
        let lang = &ctx.manifest.language.id;
        let mut numbers = Vec::new();
        for (n, f) in &frames {
            let body = ctx.read(f, &mut warnings)?;
            numbers.push(*n);
            if f.ends_with(".txt") {
                text.push_str(&format!(
                    "![OBS Image](https://cdn.door43.org/obs/jpg/360px/obs-{lang}-{story:02}-{n:02}.jpg)\n\n"
                ));
            }
            text.push_str(body.trim());
            text.push_str("\n\n");
        }
        if let Some(r) = &reference {
            let r = r.trim().trim_matches('_');
            text.push_str(&format!("_{r}_\n"));
        }
        if title.is_none() && markdown::first_heading(&text).is_none() {
            warnings.push(format!("{dir}: story {story:02} has no title"));
        }
        let frame_list = if frames.first().is_some_and(|(_, f)| f.ends_with(".txt")) {
            Some(numbers)
        } else {
            None
        };
        emit(story_page(
            story,
            &text,
            files.clone(),
            warnings,
            frame_list,
            resource,
        ))?;
    }
    if let Some(p) = matter_page(ctx, "front", front)? {
        emit(p)?;
    }
    if let Some(p) = matter_page(ctx, "back", back)? {
        emit(p)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_come_from_image_links() {
        let t = "![x](https://cdn/obs-en-03-02.jpg)\n![x](https://cdn/obs-en-03-04.jpg)";
        assert_eq!(image_frames(t, 3), vec![2, 4]);
        let mut w = Vec::new();
        check_frames("03.md", &[2, 4], &mut w);
        assert_eq!(w, vec!["03.md: missing frames 1, 3".to_string()]);
    }
}
