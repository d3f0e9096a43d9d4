//! The letter as a Word document (docx-rs): A4, Times New Roman 13–14 pt, margins of Nghị định
//! 30/2020/NĐ-CP (top and bottom 2 cm, left 3 cm, right 2 cm), the heading and the signature blocks
//! as borderless two-column tables.

use docx_rs::{
    AlignmentType, Docx, LineSpacing, PageMargin, Paragraph, Run, RunFonts, SpecialIndentType,
    Table, TableBorders, TableCell, TableRow, WidthType,
};

use crate::letter::Letter;

/// Half-points: 13 pt body, 12 pt small print.
const BODY: usize = 28;
const SMALL: usize = 24;
const HEADING: usize = 26;
/// Twips of the A4 text width (21 cm − 3 cm − 2 cm = 16 cm).
const TEXT_WIDTH: usize = 9_070;

#[derive(Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
    size: Option<usize>,
}

fn run(text: &str, style: Style) -> Run {
    let mut r = Run::new().add_text(text);
    if style.bold {
        r = r.bold();
    }
    if style.italic {
        r = r.italic();
    }
    if let Some(size) = style.size {
        r = r.size(size);
    }
    r
}

fn centered(text: &str, style: Style) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, style))
        .align(AlignmentType::Center)
}

fn body(text: &str, style: Style) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, style))
        .align(AlignmentType::Both)
        .indent(None, Some(SpecialIndentType::FirstLine(567)), None, None)
        .line_spacing(LineSpacing::new().after(120))
}

fn cell(paragraphs: Vec<Paragraph>, width: usize) -> TableCell {
    paragraphs
        .into_iter()
        .fold(TableCell::new().width(width, WidthType::Dxa), |c, p| {
            c.add_paragraph(p)
        })
}

fn two_columns(left: Vec<Paragraph>, right: Vec<Paragraph>, left_width: usize) -> Table {
    Table::new(vec![TableRow::new(vec![
        cell(left, left_width),
        cell(right, TEXT_WIDTH - left_width),
    ])])
    .set_grid(vec![left_width, TEXT_WIDTH - left_width])
    .width(TEXT_WIDTH, WidthType::Dxa)
    .set_borders(TableBorders::with_empty())
}

/// The .docx bytes of `letter`.
pub fn render(letter: &Letter) -> anyhow::Result<Vec<u8>> {
    let bold = Style {
        bold: true,
        ..Style::default()
    };
    let heading = Style {
        size: Some(HEADING),
        ..Style::default()
    };
    let header = two_columns(
        vec![
            centered(&letter.issuer_parent, heading),
            centered(
                &letter.issuer,
                Style {
                    bold: true,
                    ..heading
                },
            ),
            centered("", heading),
            centered(&letter.number, heading),
            centered(
                &letter.subject,
                Style {
                    size: Some(SMALL),
                    ..Style::default()
                },
            ),
        ],
        vec![
            centered(
                &letter.motto[0],
                Style {
                    bold: true,
                    ..heading
                },
            ),
            centered(&letter.motto[1], bold),
            centered("", heading),
            centered("", heading),
            centered(
                &letter.place_date,
                Style {
                    italic: true,
                    ..Style::default()
                },
            ),
        ],
        3_800,
    );
    let mut doc = Docx::new()
        .page_size(11_906, 16_838)
        .page_margin(PageMargin {
            top: 1_134,
            left: 1_701,
            bottom: 1_134,
            right: 1_134,
            header: 720,
            footer: 720,
            gutter: 0,
        })
        .default_fonts(
            RunFonts::new()
                .ascii("Times New Roman")
                .hi_ansi("Times New Roman")
                .cs("Times New Roman")
                .east_asia("Times New Roman"),
        )
        .default_size(BODY)
        .add_table(header)
        .add_paragraph(Paragraph::new());
    if letter.addressees.len() == 1 {
        doc = doc.add_paragraph(centered(
            &format!("Kính gửi: {}.", letter.addressees[0]),
            Style::default(),
        ));
    } else {
        doc = doc.add_paragraph(
            Paragraph::new()
                .add_run(run("Kính gửi:", Style::default()))
                .indent(Some(2_268), None, None, None),
        );
        for a in &letter.addressees {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .add_run(run(&format!("- {a};"), Style::default()))
                    .indent(Some(3_402), None, None, None),
            );
        }
    }
    doc = doc
        .add_paragraph(Paragraph::new())
        .add_paragraph(body(&letter.opening, Style::default()));
    for s in &letter.sections {
        doc = doc.add_paragraph(body(&s.heading, bold));
        for item in &s.items {
            doc = doc.add_paragraph(body(&format!("- {}", item.text), Style::default()));
            for d in &item.details {
                doc = doc.add_paragraph(body(&format!("+ {d}"), Style::default()).indent(
                    Some(567),
                    Some(SpecialIndentType::FirstLine(567)),
                    None,
                    None,
                ));
            }
        }
    }
    for p in &letter.closing {
        doc = doc.add_paragraph(body(p, Style::default()));
    }
    let small = Style {
        size: Some(SMALL - 2),
        ..Style::default()
    };
    let mut recipients = vec![Paragraph::new().add_run(run(
        "Nơi nhận:",
        Style {
            bold: true,
            italic: true,
            size: Some(SMALL),
        },
    ))];
    recipients.extend(
        letter
            .recipients
            .iter()
            .map(|r| Paragraph::new().add_run(run(r, small))),
    );
    let (titles, placeholder) = letter
        .signature
        .split_at(letter.signature.len().saturating_sub(1));
    let mut signature: Vec<Paragraph> = titles.iter().map(|t| centered(t, bold)).collect();
    signature.extend(placeholder.iter().map(|p| {
        centered(
            p,
            Style {
                italic: true,
                ..Style::default()
            },
        )
    }));
    doc = doc
        .add_paragraph(Paragraph::new())
        .add_table(two_columns(recipients, signature, 4_535));
    let mut bytes = std::io::Cursor::new(Vec::new());
    doc.pack(&mut bytes)?;
    Ok(bytes.into_inner())
}
