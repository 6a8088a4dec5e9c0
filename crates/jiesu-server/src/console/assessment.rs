//! 考核: a month's figures per street and per department, their rankings and change, a
//! 12-month trend of the composite (the district and a unit the viewer picks), and the same
//! figures as an XLSX workbook. Everything comes from the desk (`ranking`, `trend`), which reads
//! the store's monthly tallies, as `GET /api/v1/rankings` does.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jiesu_core::TrendPoint;
use jiesu_domain::assessment::{Period, RankRow};
use jiesu_domain::model::UnitKind;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;

use super::pages::{Chrome, chrome, error_page};
use super::{Lang, Viewer};
use crate::AppState;
use crate::error::ApiError;
use crate::params;

/// Months in the trend.
pub(crate) const TREND_MONTHS: usize = 12;

/// Query of `GET /assessment` and `GET /assessment.xlsx`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssessmentQuery {
    /// `YYYY-MM`; default the current month.
    #[serde(default)]
    period: String,
    /// A unit code whose composite the trend shows beside the district's.
    #[serde(default)]
    unit: String,
}

/// What the page and the workbook show: one computation for both.
struct Figures {
    period: Period,
    streets: Vec<RankRow>,
    departments: Vec<RankRow>,
    trend: Vec<TrendPoint>,
    /// The unit of the trend (code, name), if one was chosen.
    unit: Option<(String, String)>,
}

fn unit_name(state: &AppState, code: &str) -> String {
    state.desk.catalog().unit(code).map_or_else(|| code.to_string(), |u| u.name.clone())
}

/// Reads the query and asks the desk.
async fn figures(state: &AppState, v: &Viewer, q: &AssessmentQuery, now: DateTime<Utc>) -> Result<Figures, ApiError> {
    v.actor.check_staff()?;
    let period = match q.period.trim() {
        "" => Period::of(now, state.desk.config().tz),
        p => params::period("period", p)?,
    };
    let unit = match q.unit.trim() {
        "" => None,
        code => {
            let u = state.desk.catalog().unit(code).ok_or_else(|| {
                ApiError::bad_param(
                    "unit",
                    format!("unknown unit code '{}'", code.chars().take(40).collect::<String>()),
                )
            })?;
            Some((u.code.clone(), u.name.clone()))
        }
    };
    let desk = &state.desk;
    let (streets, departments, trend) = tokio::try_join!(
        desk.ranking(period, UnitKind::Street, now),
        desk.ranking(period, UnitKind::Department, now),
        desk.trend(period, TREND_MONTHS, unit.as_ref().map(|(c, _)| c.as_str())),
    )?;
    Ok(Figures { period, streets, departments, trend, unit })
}

/// One ranking line as shown.
struct RankLine {
    rank: u32,
    unit_name: String,
    cases: u32,
    callbacks: u32,
    response: String,
    resolution: String,
    satisfaction: String,
    composite: String,
    change: String,
    change_class: &'static str,
    overdue_open: u32,
    /// Cases excluded (核减) on the unit's appeal.
    excluded: u32,
}

fn rate(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |x| format!("{:.1}%", x * 100.0))
}

/// The change of rank in words and its class (`up`, `down`, `same`).
fn change_of(lang: Lang, r: &RankRow) -> (String, &'static str) {
    match r.change {
        Some(c) if c > 0 => (format!("↑{c}"), "up"),
        Some(c) if c < 0 => (format!("↓{}", -c), "down"),
        Some(_) => ("—".into(), "same"),
        None => (lang.t("新").into(), "same"),
    }
}

fn rank_lines(state: &AppState, lang: Lang, rows: &[RankRow]) -> Vec<RankLine> {
    rows.iter()
        .map(|r| {
            let f = &r.figures;
            let (change, change_class) = change_of(lang, r);
            RankLine {
                rank: r.rank,
                unit_name: unit_name(state, &r.unit),
                cases: f.cases,
                callbacks: f.callbacks,
                response: rate(f.response_rate),
                resolution: rate(f.resolution_rate),
                satisfaction: rate(f.satisfaction_rate),
                composite: format!("{:.2}", r.composite),
                change,
                change_class,
                overdue_open: f.overdue_open,
                excluded: f.excluded,
            }
        })
        .collect()
}

/// A unit the trend may follow.
struct UnitOpt {
    code: String,
    name: String,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    chrome: Chrome,
    period: String,
    previous: String,
    next: String,
    /// The chosen unit's code (kept in the month links), empty for none.
    unit: String,
    streets: Vec<RankLine>,
    departments: Vec<RankLine>,
    /// Streets, then departments, for the trend's unit choice.
    street_opts: Vec<UnitOpt>,
    department_opts: Vec<UnitOpt>,
    /// The composite per street for the bar chart, as JSON (read by `console.js`).
    chart: String,
    /// The trend as JSON (read by `assessment.js`).
    trend: String,
    /// How the composite is weighted, in words.
    weights: String,
}

fn period_code(p: Period) -> String {
    p.to_string()
}

fn options(state: &AppState, kind: UnitKind, chosen: Option<&str>) -> Vec<UnitOpt> {
    state
        .desk
        .catalog()
        .units()
        .iter()
        .filter(|u| u.kind == kind)
        .map(|u| UnitOpt { code: u.code.clone(), name: u.name.clone(), selected: chosen == Some(u.code.as_str()) })
        .collect()
}

/// A composite rounded for showing (two decimals), None stays None.
fn round2(x: Option<f64>) -> Option<f64> {
    x.map(|x| (x * 100.0).round() / 100.0)
}

/// `GET /assessment?period=YYYY-MM[&unit=CODE]`: the three rates and the composite per street
/// and per department, the ranking and its change, the 12-month trend, and a link to the XLSX.
pub(crate) async fn page(State(state): State<AppState>, v: Viewer, Query(q): Query<AssessmentQuery>) -> Response {
    let page_chrome = || chrome(&state, &v, "/assessment");
    let f = match figures(&state, &v, &q, state.now()).await {
        Ok(f) => f,
        Err(e) => return error_page(Some(page_chrome()), &e),
    };
    let streets = rank_lines(&state, v.lang, &f.streets);
    let departments = rank_lines(&state, v.lang, &f.departments);
    let chart = serde_json::json!({
        "names": streets.iter().map(|r| r.unit_name.trim_end_matches("街道办事处")).collect::<Vec<_>>(),
        "values": f.streets.iter().map(|r| round2(Some(r.composite))).collect::<Vec<_>>(),
    })
    .to_string();
    let trend = serde_json::json!({
        "months": f.trend.iter().map(|p| p.period.to_string()).collect::<Vec<_>>(),
        "district": f.trend.iter().map(|p| round2(p.district)).collect::<Vec<_>>(),
        "unit": f.unit.as_ref().map(|_| f.trend.iter().map(|p| round2(p.unit)).collect::<Vec<_>>()),
        "unit_name": f.unit.as_ref().map(|(_, n)| n.clone()),
        "district_name": v.lang.t("全区"),
        "axis_name": v.lang.t("综合"),
    })
    .to_string();
    let chosen = f.unit.as_ref().map(|(c, _)| c.as_str());
    AssessmentPage {
        chrome: page_chrome(),
        period: period_code(f.period),
        previous: period_code(f.period.previous()),
        next: period_code(f.period.next()),
        unit: chosen.unwrap_or_default().to_string(),
        street_opts: options(&state, UnitKind::Street, chosen),
        department_opts: options(&state, UnitKind::Department, chosen),
        streets,
        departments,
        chart,
        trend,
        weights: {
            let w = state.desk.config().weights;
            let sum = w.response + w.resolution + w.satisfaction;
            let p = |x: f64| format!("{:.0}%", 100.0 * x / sum);
            v.lang.f(
                "综合 = 响应率 × {} + 解决率 × {} + 满意率 × {}（按回访计，满分 100）",
                &[&p(w.response), &p(w.resolution), &p(w.satisfaction)],
            )
        },
    }
    .into_response()
}

/// `GET /assessment.xlsx?period=YYYY-MM[&unit=CODE]`: the page's figures as a workbook (sheets
/// 街道, 部门, 趋势), rates as percentages.
pub(crate) async fn xlsx(State(state): State<AppState>, v: Viewer, Query(q): Query<AssessmentQuery>) -> Response {
    let f = match figures(&state, &v, &q, state.now()).await {
        Ok(f) => f,
        Err(e) => return error_page(Some(chrome(&state, &v, "/assessment")), &e),
    };
    let bytes = match workbook(&state, &f) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "assessment workbook");
            return error_page(
                Some(chrome(&state, &v, "/assessment")),
                &ApiError::internal("could not write the workbook"),
            );
        }
    };
    let name = format!("assessment-{}.xlsx", f.period);
    let disposition = format!("attachment; filename=\"{name}\"; filename*=UTF-8''%E8%80%83%E6%A0%B8-{}.xlsx", f.period);
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    );
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    resp
}

/// Headers of the 街道 and 部门 sheets.
const RANK_HEADERS: [&str; 15] = [
    "排名",
    "单位编码",
    "单位",
    "受理量",
    "回访量",
    "响应率",
    "解决率",
    "满意率",
    "综合得分",
    "排名变化",
    "结案率",
    "按期结案率",
    "按期处置率",
    "超期未结",
    "核减",
];

fn workbook(state: &AppState, f: &Figures) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let head = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let score = Format::new().set_num_format("0.00");
    for (title, rows) in [("街道", &f.streets), ("部门", &f.departments)] {
        let sheet = book.add_worksheet().set_name(title)?;
        rank_sheet(state, sheet, rows, f.period, &head, &pct, &score)?;
    }
    let sheet = book.add_worksheet().set_name("趋势")?;
    sheet.write_string_with_format(0, 0, "月份", &head)?;
    sheet.write_string_with_format(0, 1, "全区综合得分", &head)?;
    sheet.write_string_with_format(0, 2, "全区回访量", &head)?;
    if let Some((_, name)) = &f.unit {
        sheet.write_string_with_format(0, 3, format!("{name}综合得分"), &head)?;
    }
    for (i, p) in f.trend.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, p.period.to_string())?;
        if let Some(d) = p.district {
            sheet.write_number_with_format(row, 1, d, &score)?;
        }
        sheet.write_number(row, 2, p.callbacks as f64)?;
        if let Some(u) = p.unit.filter(|_| f.unit.is_some()) {
            sheet.write_number_with_format(row, 3, u, &score)?;
        }
    }
    sheet.set_column_width(0, 10)?;
    sheet.set_column_width(1, 14)?;
    sheet.set_column_width(3, 30)?;
    book.save_to_buffer()
}

fn rank_sheet(
    state: &AppState,
    sheet: &mut Worksheet,
    rows: &[RankRow],
    period: Period,
    head: &Format,
    pct: &Format,
    score: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, format!("{period} 考核"), head)?;
    for (c, h) in RANK_HEADERS.iter().enumerate() {
        sheet.write_string_with_format(1, c as u16, *h, head)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 2;
        let fig = &r.figures;
        sheet.write_number(row, 0, f64::from(r.rank))?;
        sheet.write_string(row, 1, &r.unit)?;
        sheet.write_string(row, 2, unit_name(state, &r.unit))?;
        sheet.write_number(row, 3, f64::from(fig.cases))?;
        sheet.write_number(row, 4, f64::from(fig.callbacks))?;
        let rates = [
            (5, fig.response_rate),
            (6, fig.resolution_rate),
            (7, fig.satisfaction_rate),
            (10, fig.closure_rate),
            (11, fig.on_time_closure_rate),
            (12, fig.on_time_handling_rate),
        ];
        for (c, x) in rates {
            if let Some(x) = x {
                sheet.write_number_with_format(row, c, x, pct)?;
            }
        }
        sheet.write_number_with_format(row, 8, r.composite, score)?;
        match r.change {
            Some(c) => sheet.write_number(row, 9, f64::from(c))?,
            None => sheet.write_string(row, 9, "新")?,
        };
        sheet.write_number(row, 13, f64::from(fig.overdue_open))?;
        sheet.write_number(row, 14, f64::from(fig.excluded))?;
    }
    sheet.set_column_width(2, 26)?;
    Ok(())
}
