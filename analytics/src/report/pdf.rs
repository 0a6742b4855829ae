//! The PDF executive summary: one A4 page with the KPI table, the replies chart and the
//! peak and unresolved questions, written with lopdf in the standard Helvetica fonts (no
//! font file embedded; text stays extractable).
//!
//! The chart is the Analytics page's, drawn by plotters on [`PdfCanvas`], a drawing backend
//! that turns plotters' lines, rectangles, polygons and texts into PDF path and text
//! operators, so the PDF holds vectors, not a picture.

use std::convert::Infallible;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Encoding, Object, Stream, StringFormat, dictionary};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind};

use super::{RenderError, Report, WEEKDAYS};
use crate::chart;

/// A4 in points.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 40.0;
/// The KPI table's columns: figure, target, this period, previous, change, standing.
const COLUMNS: [f32; 6] = [40.0, 150.0, 235.0, 320.0, 405.0, 490.0];
/// Unresolved questions listed.
const QUESTIONS: usize = 5;
/// Characters of a question kept on its line.
const QUESTION_CHARS: usize = 80;

/// The PDF's bytes.
pub(super) fn render(report: &Report) -> Result<Vec<u8>, RenderError> {
    let mut page = Page::default();
    let mut y = PAGE_HEIGHT - MARGIN - 12.0;
    page.text(MARGIN, y, 18.0, Font::Bold, &format!("{} report: {}", report.period.adjective(), report.bot()));
    y -= 18.0;
    let compared = format!(
        "{} (UTC), compared with {} – {}",
        report.span(),
        super::date(report.previous_range.from),
        super::date(report.previous_range.to - 1)
    );
    page.text(MARGIN, y, 10.0, Font::Regular, &compared);
    if report.is_empty() {
        y -= 16.0;
        page.text(MARGIN, y, 11.0, Font::Bold, "No conversations in this period.");
    }
    if report.dashboard.demo_conversations > 0 {
        y -= 14.0;
        let demo =
            format!("Demo data: {} seeded conversations, not real visitors.", report.dashboard.demo_conversations);
        page.text(MARGIN, y, 9.0, Font::Regular, &demo);
    }

    y -= 26.0;
    page.text(MARGIN, y, 13.0, Font::Bold, "Key figures");
    y -= 18.0;
    for (x, title) in COLUMNS.iter().zip(["Figure", "Target", "This period", "Previous", "Change", "Standing"]) {
        page.text(*x, y, 9.0, Font::Bold, title);
    }
    page.rule(y - 4.0);
    for figure in report.figures() {
        y -= 14.0;
        let cells = [
            figure.name.to_owned(),
            figure.shown_target(),
            figure.shown(),
            figure.shown_previous(),
            figure.shown_change(),
            figure.standing().to_owned(),
        ];
        for (x, cell) in COLUMNS.iter().zip(&cells) {
            page.text(*x, y, 9.0, Font::Regular, cell);
        }
    }

    y -= 16.0;
    let scale = (PAGE_WIDTH - 2.0 * MARGIN) / chart::WIDTH as f32;
    let canvas = PdfCanvas { ops: &mut page.ops, left: MARGIN, top: y, scale };
    let board = &report.dashboard;
    draw_chart(canvas, |root| chart::paint_replies(root, &board.series, board.bucket_seconds))
        .map_err(|reason| RenderError::Chart { chart: "replies", reason })?;
    y -= chart::HEIGHT as f32 * scale + 24.0;

    page.text(MARGIN, y, 13.0, Font::Bold, "Peak usage");
    let mut peaks: Vec<String> = report
        .busiest_bucket()
        .map(|bucket| format!("Busiest: {} ({} messages)", report.bucket_label(bucket), bucket.sums.messages))
        .into_iter()
        .collect();
    peaks.extend(
        report
            .peak_hours()
            .iter()
            .map(|peak| format!("{} {:02}:00 UTC: {} messages", WEEKDAYS[peak.weekday], peak.hour, peak.messages)),
    );
    if peaks.is_empty() {
        peaks.push("No visitor messages.".to_owned());
    }
    for line in peaks {
        y -= 13.0;
        page.text(MARGIN, y, 9.0, Font::Regular, &line);
    }

    y -= 24.0;
    page.text(MARGIN, y, 13.0, Font::Bold, "Unresolved questions");
    if board.unresolved.is_empty() {
        y -= 13.0;
        page.text(MARGIN, y, 9.0, Font::Regular, "None in this period.");
    }
    for question in board.unresolved.iter().take(QUESTIONS) {
        y -= 13.0;
        let text: String = question.example.chars().take(QUESTION_CHARS).collect();
        page.text(MARGIN, y, 9.0, Font::Regular, &format!("{} × {text}", question.unresolved));
    }
    page.finish()
}

#[derive(Clone, Copy)]
enum Font {
    Regular,
    Bold,
}

/// One page's content stream, built as operators.
#[derive(Default)]
struct Page {
    ops: Vec<Operation>,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, font: Font, text: &str) {
        text_ops(&mut self.ops, x, y, size, font, (0.1, 0.12, 0.14), text);
    }

    /// A thin line across the page under a table header.
    fn rule(&mut self, y: f32) {
        self.ops.extend([
            Operation::new("RG", vec![0.8.into(), 0.84.into(), 0.87.into()]),
            Operation::new("w", vec![0.5.into()]),
            Operation::new("m", vec![MARGIN.into(), y.into()]),
            Operation::new("l", vec![(PAGE_WIDTH - MARGIN).into(), y.into()]),
            Operation::new("S", vec![]),
        ]);
    }

    /// The document: one page, Helvetica and Helvetica-Bold in WinAnsi encoding.
    fn finish(self) -> Result<Vec<u8>, RenderError> {
        let mut doc = Document::with_version("1.5");
        let pages_id = doc.new_object_id();
        let font = |name: &str| {
            dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => name,
                "Encoding" => "WinAnsiEncoding",
            }
        };
        let regular = doc.add_object(font("Helvetica"));
        let bold = doc.add_object(font("Helvetica-Bold"));
        let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => regular, "F2" => bold } });
        let content = Content { operations: self.ops }.encode()?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        doc.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page_id.into()],
                "Count" => 1,
                "Resources" => resources,
                "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        doc.compress();
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).map_err(lopdf::Error::IO)?;
        Ok(bytes)
    }
}

fn text_ops(ops: &mut Vec<Operation>, x: f32, y: f32, size: f32, font: Font, rgb: (f32, f32, f32), text: &str) {
    let name = match font {
        Font::Regular => "F1",
        Font::Bold => "F2",
    };
    ops.extend([
        Operation::new("BT", vec![]),
        Operation::new("rg", vec![rgb.0.into(), rgb.1.into(), rgb.2.into()]),
        Operation::new("Tf", vec![Object::Name(name.as_bytes().to_vec()), size.into()]),
        Operation::new("Td", vec![x.into(), y.into()]),
        Operation::new("Tj", vec![Object::String(win_ansi(text), StringFormat::Literal)]),
        Operation::new("ET", vec![]),
    ]);
}

/// The text in WinAnsi, the standard fonts' encoding: a minus sign becomes a hyphen and any
/// other character it lacks a `?`, so nothing is silently dropped.
fn win_ansi(text: &str) -> Vec<u8> {
    let encoding = Encoding::SimpleEncoding(b"WinAnsiEncoding");
    let mut bytes = Vec::with_capacity(text.len());
    let mut buffer = [0u8; 4];
    for c in text.chars() {
        let c = if c == '−' { '-' } else { c };
        let encoded = Document::encode_text(&encoding, c.encode_utf8(&mut buffer));
        if encoded.is_empty() {
            bytes.push(b'?');
        } else {
            bytes.extend(encoded);
        }
    }
    bytes
}

fn draw_chart<'a>(
    canvas: PdfCanvas<'a>,
    paint: impl FnOnce(&DrawingArea<PdfCanvas<'a>, plotters::coord::Shift>) -> Result<(), String>,
) -> Result<(), String> {
    let root = canvas.into_drawing_area();
    root.fill(&WHITE).map_err(|err| err.to_string())?;
    paint(&root)?;
    root.present().map_err(|err| err.to_string())
}

/// A plotters backend writing PDF operators: the chart's pixel (x, y) lands at
/// (`left` + x·`scale`, `top` − y·`scale`) on the page.
struct PdfCanvas<'a> {
    ops: &'a mut Vec<Operation>,
    left: f32,
    top: f32,
    scale: f32,
}

impl PdfCanvas<'_> {
    fn point(&self, (x, y): BackendCoord) -> [Object; 2] {
        [(self.left + x as f32 * self.scale).into(), (self.top - y as f32 * self.scale).into()]
    }

    /// A colour over white: the standard fonts and paths have no transparency here.
    fn rgb(color: BackendColor) -> (f32, f32, f32) {
        let (r, g, b) = color.rgb;
        let alpha = color.alpha.clamp(0.0, 1.0) as f32;
        let over_white = |c: u8| (f32::from(c) * alpha + 255.0 * (1.0 - alpha)) / 255.0;
        (over_white(r), over_white(g), over_white(b))
    }

    fn color_operands(color: BackendColor) -> Vec<Object> {
        let (r, g, b) = Self::rgb(color);
        vec![r.into(), g.into(), b.into()]
    }

    fn path(&mut self, points: &[BackendCoord], close: bool, paint: &str) {
        for (index, point) in points.iter().enumerate() {
            self.ops.push(Operation::new(if index == 0 { "m" } else { "l" }, self.point(*point).to_vec()));
        }
        if close {
            self.ops.push(Operation::new("h", vec![]));
        }
        self.ops.push(Operation::new(paint, vec![]));
    }

    fn stroke_style(&mut self, color: BackendColor, width: u32) {
        self.ops.push(Operation::new("RG", Self::color_operands(color)));
        self.ops.push(Operation::new("w", vec![(width.max(1) as f32 * self.scale).into()]));
    }
}

type Drawn = Result<(), DrawingErrorKind<Infallible>>;

impl DrawingBackend for PdfCanvas<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        (chart::WIDTH, chart::HEIGHT)
    }

    fn ensure_prepared(&mut self) -> Drawn {
        Ok(())
    }

    fn present(&mut self) -> Drawn {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        self.draw_rect(point, (point.0 + 1, point.1 + 1), &color, true)
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Drawn {
        self.stroke_style(style.color(), style.stroke_width());
        self.path(&[from, to], false, "S");
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        let (left, right) = (upper_left.0, bottom_right.0);
        let (top, bottom) = (upper_left.1, bottom_right.1);
        let corners = [(left, top), (right, top), (right, bottom), (left, bottom)];
        if fill {
            self.ops.push(Operation::new("rg", Self::color_operands(style.color())));
            self.path(&corners, true, "f");
        } else {
            self.stroke_style(style.color(), style.stroke_width());
            self.path(&corners, true, "S");
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Drawn {
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if points.len() > 1 {
            self.stroke_style(style.color(), style.stroke_width());
            self.path(&points, false, "S");
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> Drawn {
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        if points.len() > 2 {
            self.ops.push(Operation::new("rg", Self::color_operands(style.color())));
            self.path(&points, true, "f");
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> Drawn {
        let points: Vec<BackendCoord> = (0..24)
            .map(|step| {
                let angle = f64::from(step) * std::f64::consts::TAU / 24.0;
                let (x, y) = (f64::from(radius) * angle.cos(), f64::from(radius) * angle.sin());
                (center.0 + x.round() as i32, center.1 + y.round() as i32)
            })
            .collect();
        if fill {
            self.fill_polygon(points, style)
        } else {
            let mut closed = points;
            closed.push(closed[0]);
            self.draw_path(closed, style)
        }
    }

    fn draw_text<TStyle: BackendTextStyle>(&mut self, text: &str, style: &TStyle, pos: BackendCoord) -> Drawn {
        let size = style.size() as f32;
        let width = text_width(text, size);
        let x = match style.anchor().h_pos {
            HPos::Left => pos.0 as f32,
            HPos::Center => pos.0 as f32 - width / 2.0,
            HPos::Right => pos.0 as f32 - width,
        };
        // The baseline, from the anchor's vertical position (y grows downwards here).
        let y = match style.anchor().v_pos {
            VPos::Top => pos.1 as f32 + size * 0.8,
            VPos::Center => pos.1 as f32 + size * 0.35,
            VPos::Bottom => pos.1 as f32,
        };
        let [page_x, page_y] = [self.left + x * self.scale, self.top - y * self.scale];
        let rgb = Self::rgb(style.color());
        text_ops(self.ops, page_x, page_y, size * self.scale, Font::Regular, rgb, text);
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let size = style.size() as f32;
        Ok((text_width(text, size).ceil() as u32, size.ceil() as u32))
    }
}

/// Helvetica's width of a text, roughly: half an em per character.
fn text_width(text: &str, size: f32) -> f32 {
    text.chars().count() as f32 * size * 0.5
}
