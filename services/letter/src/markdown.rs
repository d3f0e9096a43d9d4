//! The letter as Markdown: the two-column heading of Nghị định 30/2020/NĐ-CP as a table, then the
//! body, the recipients and the signature.

use crate::letter::Letter;

/// Escapes the characters Markdown would read as markup in running text.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '|' | '`' | '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn render(letter: &Letter) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "| {}<br>**{}** | **{}**<br>**{}** |\n|:---:|:---:|\n| {}<br>{} | *{}* |\n\n",
        text(&letter.issuer_parent),
        text(&letter.issuer),
        text(&letter.motto[0]),
        text(&letter.motto[1]),
        text(&letter.number),
        text(&letter.subject),
        text(&letter.place_date),
    ));
    md.push_str("**Kính gửi:**\n\n");
    for a in &letter.addressees {
        md.push_str(&format!("- {};\n", text(a)));
    }
    md.push('\n');
    md.push_str(&text(&letter.opening));
    md.push_str("\n\n");
    for s in &letter.sections {
        md.push_str(&format!("### {}\n\n", text(&s.heading)));
        for item in &s.items {
            md.push_str(&format!("- {}\n", text(&item.text)));
            for d in &item.details {
                md.push_str(&format!("  - {}\n", text(d)));
            }
        }
        md.push('\n');
    }
    for p in &letter.closing {
        md.push_str(&text(p));
        md.push_str("\n\n");
    }
    md.push_str("| **Nơi nhận:**<br>");
    md.push_str(
        &letter
            .recipients
            .iter()
            .map(|r| text(r))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    md.push_str(" | ");
    let (titles, placeholder) = letter
        .signature
        .split_at(letter.signature.len().saturating_sub(1));
    md.push_str(
        &titles
            .iter()
            .map(|t| format!("**{}**", text(t)))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    for p in placeholder {
        md.push_str(&format!("<br>*{}*", text(p)));
    }
    md.push_str(" |\n|:---|:---:|\n");
    md
}
