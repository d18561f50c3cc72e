//! A document as blocks of text, flowed onto A4 pages under a banner.

use printpdf::{
    BuiltinFont, Line, LinePoint, Mm, Op, PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt,
    TextItem,
};

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN: f32 = 15.0;
const LINE_MM: f32 = 4.6;
/// Characters of 9-pt Helvetica that fit the text width, allowing for wide letters.
const WRAP_AT: usize = 100;

/// One block of the body: a heading, a paragraph, or a line of label and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Heading(String),
    Text(String),
    /// Indented, smaller lines (a dose's derivation).
    Detail(String),
    Gap,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub title: String,
    /// The patient banner, on every page: name, NHS number, born.
    pub banner: String,
    pub footer: String,
    pub body: Vec<Block>,
}

/// A printed line: its font, size and indent.
struct Printed {
    text: String,
    bold: bool,
    size: f32,
    indent: f32,
}

impl Document {
    /// The document as PDF bytes.
    pub fn to_pdf(&self) -> Vec<u8> {
        let lines = self.printed_lines();
        let per_page = ((PAGE_HEIGHT - 2.0 * MARGIN - 26.0) / LINE_MM) as usize;
        let chunks: Vec<&[Printed]> = lines.chunks(per_page.max(1)).collect();
        let total = chunks.len().max(1);
        let pages: Vec<PdfPage> = (0..total)
            .map(|index| {
                let body = chunks.get(index).copied().unwrap_or(&[]);
                PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), self.page_ops(body, index + 1, total))
            })
            .collect();
        let mut warnings = Vec::new();
        PdfDocument::new(&self.title).with_pages(pages).save(&PdfSaveOptions::default(), &mut warnings)
    }

    fn printed_lines(&self) -> Vec<Printed> {
        let mut lines = Vec::new();
        for block in &self.body {
            match block {
                Block::Heading(text) => {
                    lines.push(Printed { text: String::new(), bold: false, size: 9.0, indent: 0.0 });
                    lines.push(Printed { text: text.clone(), bold: true, size: 11.0, indent: 0.0 });
                }
                Block::Text(text) => lines.extend(wrap(text, WRAP_AT).into_iter().map(|t| Printed {
                    text: t,
                    bold: false,
                    size: 9.0,
                    indent: 0.0,
                })),
                Block::Detail(text) => lines.extend(wrap(text, WRAP_AT - 8).into_iter().map(|t| Printed {
                    text: t,
                    bold: false,
                    size: 8.0,
                    indent: 6.0,
                })),
                Block::Gap => {
                    lines.push(Printed { text: String::new(), bold: false, size: 9.0, indent: 0.0 })
                }
            }
        }
        lines
    }

    fn page_ops(&self, body: &[Printed], page: usize, pages: usize) -> Vec<Op> {
        let mut ops = Vec::new();
        let top = PAGE_HEIGHT - MARGIN;
        text_at(&mut ops, &self.title, MARGIN, top, 13.0, true);
        text_at(&mut ops, &self.banner, MARGIN, top - 7.0, 10.0, true);
        rule(&mut ops, top - 10.0);
        let mut y = top - 16.0;
        for line in body {
            text_at(&mut ops, &line.text, MARGIN + line.indent, y, line.size, line.bold);
            y -= LINE_MM;
        }
        rule(&mut ops, MARGIN + 6.0);
        text_at(&mut ops, &self.footer, MARGIN, MARGIN, 8.0, false);
        text_at(&mut ops, &format!("Page {page} of {pages}"), PAGE_WIDTH - MARGIN - 22.0, MARGIN, 8.0, false);
        ops
    }
}

fn text_at(ops: &mut Vec<Op>, text: &str, x: f32, y: f32, size: f32, bold: bool) {
    if text.is_empty() {
        return;
    }
    let font = if bold { BuiltinFont::HelveticaBold } else { BuiltinFont::Helvetica };
    ops.extend([
        Op::StartTextSection,
        Op::SetTextCursor { pos: Point::new(Mm(x), Mm(y)) },
        Op::SetFont { font: PdfFontHandle::Builtin(font), size: Pt(size) },
        Op::ShowText { items: vec![TextItem::Text(printable(text))] },
        Op::EndTextSection,
    ]);
}

fn rule(ops: &mut Vec<Op>, y: f32) {
    let point = |x: f32| LinePoint { p: Point::new(Mm(x), Mm(y)), bezier: false };
    ops.push(Op::SetOutlineThickness { pt: Pt(0.5) });
    ops.push(Op::DrawLine {
        line: Line { points: vec![point(MARGIN), point(PAGE_WIDTH - MARGIN)], is_closed: false },
    });
}

/// The standard fonts carry the Latin-1 characters; the few others used in
/// clinical text are spelt out rather than lost.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '⁹' => "^9".to_owned(),
            '⁻' => "-".to_owned(),
            '–' | '—' => "-".to_owned(),
            '→' => "->".to_owned(),
            '≥' => ">=".to_owned(),
            '≤' => "<=".to_owned(),
            '‘' | '’' => "'".to_owned(),
            '“' | '”' => "\"".to_owned(),
            '·' => ".".to_owned(),
            c if (c as u32) < 0x100 => c.to_string(),
            _ => "?".to_owned(),
        })
        .collect()
}

/// Breaks text into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_at_spaces_and_keeps_every_word() {
        let text = "word ".repeat(60);
        let lines = wrap(text.trim(), 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:?}");
        assert_eq!(lines.join(" ").split(' ').count(), 60);
    }

    #[test]
    fn characters_the_standard_fonts_lack_are_spelt_out() {
        assert_eq!(printable("1.0 ×10⁹/L – 1.73 m²"), "1.0 ×10^9/L - 1.73 m²");
    }
}
