//! Category suggestions for new cases: the classifier's label mapped onto the district's
//! category list and unit kinds, with a calibrated confidence and a manual-queue flag.
//!
//! The map is data (`data/label_map.csv`, embedded; see the file's header for the columns),
//! checked against the catalog when a [`Suggester`] is built. A suggestion goes to the
//! dispatcher's manual queue (`manual: true`) when the message has no usable text, when the
//! predicted label is not in the map, or when the confidence is below the model's
//! [`Classifier::manual_threshold`] — chosen at training time by the inner cross-validation so
//! that predictions at or above it were right at least 97 % of the time (out of fold).
//!
//! **The leaf.** Cases are filed under leaf categories, the map names top-level ones. The leaf
//! suggested is picked among the leaves of the label's top-level categories by the catalog's
//! keywords (`categories.csv`, column `keywords`) found in the text: each leaf scores the number
//! of characters of its keywords found (a keyword inside a longer one found for the same leaf is
//! not counted again); the highest score wins, ties going to the earlier top-level category of
//! the map's row, then to file order. When no keyword of those leaves occurs, the suggestion is
//! the first top-level category's most general leaf: its `…99` catch-all leaf if the catalog
//! has one, otherwise its first leaf in file order (the catalog lists each group's commonest
//! leaf first).
//!
//! **The confidence** is the classifier's calibrated probability that the label (and so the
//! top-level category) is right when the leaf rests on keywords found in the text; a default
//! leaf is a guess within the category, so its confidence is the classifier's times
//! [`DEFAULT_LEAF_FACTOR`] (0.5), which puts it below any useful threshold: the case goes to the
//! manual queue with the top-level category shown, for a person to pick the leaf. `manual` is
//! always `confidence < threshold` (or no usable text, or an unmapped label);
//! `label_confidence` keeps the classifier's own figure, and `keywords` what the pick rests on.

use std::sync::OnceLock;

use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::UnitKind;
use serde::Serialize;

use crate::classify::{Classifier, tokenize};

/// The factor on the confidence of a default leaf (no keyword of the label's categories in the
/// text): the leaf is then a guess, right only if the label is right *and* the case is of the
/// category's commonest kind. At 0.5 such a suggestion never fills a category by itself.
pub const DEFAULT_LEAF_FACTOR: f32 = 0.5;

/// The shipped map from the shipped model's labels to Dongcheng's categories.
pub const SHIPPED_LABEL_MAP: &str = include_str!("../data/label_map.csv");

/// Where one label of the model goes in the district's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelMapping {
    /// The model's label.
    pub label: String,
    /// Top-level category codes; the first is the suggestion.
    pub top_categories: Vec<String>,
    /// The kind of unit that normally handles the label's cases.
    pub unit_kind: UnitKind,
    /// A default unit, if one unit always handles them.
    pub unit: Option<String>,
}

/// The label map: one [`LabelMapping`] per label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMap {
    rows: Vec<LabelMapping>,
}

/// Why a label map or a suggester cannot be used; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}", problems.join("; "))]
pub struct LabelMapError {
    /// The map's name (file name).
    pub file: String,
    /// What is wrong, one entry per problem.
    pub problems: Vec<String>,
}

impl LabelMap {
    /// The shipped map (`crates/jiesu-intake/data/label_map.csv`).
    pub fn shipped() -> LabelMap {
        LabelMap::parse(SHIPPED_LABEL_MAP, "label_map.csv").expect("the shipped label map parses")
    }

    /// Parses a map file (`#` comment lines, a header row with `label`, `top_categories`,
    /// `unit_kind` and optionally `unit`). Checks the syntax only; see [`LabelMap::check`].
    pub fn parse(text: &str, file: &str) -> Result<LabelMap, LabelMapError> {
        let fail = |problems: Vec<String>| LabelMapError { file: file.to_string(), problems };
        let mut rdr = csv::ReaderBuilder::new().comment(Some(b'#')).flexible(true).from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| fail(vec![format!("cannot read the header row: {e}")]))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let col = |n: &str| headers.iter().position(|h| h == n);
        let (Some(label), Some(cats), Some(kind)) = (col("label"), col("top_categories"), col("unit_kind")) else {
            return Err(fail(vec![format!(
                "need columns label, top_categories, unit_kind (found: {})",
                headers.join(",")
            )]));
        };
        let unit = col("unit");
        let mut rows: Vec<LabelMapping> = Vec::new();
        let mut problems = Vec::new();
        for rec in rdr.records() {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("unreadable row: {e}"));
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| p.line());
            let get = |i: usize| rec.get(i).unwrap_or("").trim();
            let l = get(label);
            if l.is_empty() {
                problems.push(format!("line {line}: empty label"));
                continue;
            }
            if rows.iter().any(|r| r.label == l) {
                problems.push(format!("line {line}: label {l} appears twice"));
            }
            let top: Vec<String> =
                get(cats).split('|').map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect();
            if top.is_empty() {
                problems.push(format!("line {line}: label {l} has no top category"));
            }
            let unit_kind = match get(kind).parse::<UnitKind>() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            rows.push(LabelMapping {
                label: l.to_string(),
                top_categories: top,
                unit_kind,
                unit: unit.map(get).filter(|u| !u.is_empty()).map(str::to_string),
            });
        }
        if problems.is_empty() { Ok(LabelMap { rows }) } else { Err(fail(problems)) }
    }

    /// The mapping of a label.
    pub fn get(&self, label: &str) -> Option<&LabelMapping> {
        self.rows.iter().find(|r| r.label == label)
    }

    /// All mappings, in file order.
    pub fn rows(&self) -> &[LabelMapping] {
        &self.rows
    }

    /// Checks the map against a catalog and a model's labels: every category exists and is
    /// top-level, the unit kind equals the first category's, a default unit exists and is of
    /// that kind, and every model label is mapped. Returns every problem found.
    pub fn check(&self, catalog: &Catalog, labels: &[String]) -> Vec<String> {
        let mut problems = Vec::new();
        for r in &self.rows {
            for code in &r.top_categories {
                match catalog.category(code) {
                    None => problems.push(format!("label {}: category {code} is not in the catalog", r.label)),
                    Some(c) if c.is_leaf() => problems.push(format!(
                        "label {}: category {code} ({}) is a leaf, not a top-level category",
                        r.label, c.name
                    )),
                    Some(_) => {}
                }
            }
            if let Some(c) = r.top_categories.first().and_then(|c| catalog.category(c))
                && c.unit_kind != r.unit_kind
            {
                problems.push(format!(
                    "label {}: unit_kind {} differs from category {} ({}), which is handled by {}",
                    r.label, r.unit_kind, c.code, c.name, c.unit_kind
                ));
            }
            if let Some(u) = &r.unit {
                match catalog.unit(u) {
                    None => problems.push(format!("label {}: unit {u} is not in the catalog", r.label)),
                    Some(unit) if unit.kind != r.unit_kind => problems.push(format!(
                        "label {}: unit {u} ({}) is a {}, not a {}",
                        r.label, unit.name, unit.kind, r.unit_kind
                    )),
                    Some(_) => {}
                }
            }
        }
        for l in labels {
            if self.get(l).is_none() {
                problems.push(format!("model label {l} is not mapped"));
            }
        }
        problems
    }
}

/// A category suggestion for a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategorySuggestion {
    /// The classifier's label (empty when the message has no usable text).
    pub label: String,
    /// Suggested leaf category code (the level cases are filed under), if the label is mapped.
    pub category: Option<String>,
    /// Its name.
    pub category_name: Option<String>,
    /// The leaf's keywords found in the text (empty: the top-level category's default leaf).
    pub keywords: Vec<String>,
    /// Suggested top-level category code, if the label is mapped.
    pub top_category: Option<String>,
    /// Its name.
    pub top_category_name: Option<String>,
    /// Other top-level categories where this label's cases also belong.
    pub also: Vec<String>,
    /// Kind of unit that normally handles it, if the label is mapped.
    pub unit_kind: Option<UnitKind>,
    /// Default unit, if the map names one.
    pub unit: Option<String>,
    /// Confidence in the suggested leaf: the label's, times [`DEFAULT_LEAF_FACTOR`] for a default
    /// leaf (0 without text).
    pub confidence: f32,
    /// The classifier's calibrated probability that the label is right (0 without text).
    pub label_confidence: f32,
    /// True: the dispatcher should classify this case by hand (see `reason`).
    pub manual: bool,
    /// Why the case goes to the manual queue (Chinese, for the dispatcher).
    pub reason: Option<String>,
}

impl CategorySuggestion {
    /// A suggestion that names no category of the district (nothing to classify, or a label the
    /// map does not know): manual, with `reason`.
    fn unplaced(label: String, confidence: f32, reason: String) -> CategorySuggestion {
        CategorySuggestion {
            label,
            category: None,
            category_name: None,
            keywords: Vec::new(),
            top_category: None,
            top_category_name: None,
            also: Vec::new(),
            unit_kind: None,
            unit: None,
            confidence,
            label_confidence: confidence,
            manual: true,
            reason: Some(reason),
        }
    }
}

/// A leaf category as the suggester needs it.
#[derive(Debug, Clone)]
struct Leaf {
    code: String,
    name: String,
    parent: String,
    keywords: Vec<String>,
}

/// A classifier with its label map, checked against a catalog.
#[derive(Debug, Clone)]
pub struct Suggester {
    clf: Classifier,
    map: LabelMap,
    names: Vec<(String, String)>,
    /// The catalog's leaves, in file order.
    leaves: Vec<Leaf>,
}

impl Suggester {
    /// Builds a suggester; fails, listing every problem, if the map does not fit the catalog
    /// or leaves a model label unmapped.
    pub fn new(clf: Classifier, map: LabelMap, catalog: &Catalog) -> Result<Suggester, LabelMapError> {
        let problems = map.check(catalog, clf.labels());
        if !problems.is_empty() {
            return Err(LabelMapError { file: "label map".into(), problems });
        }
        let names = map
            .rows()
            .iter()
            .flat_map(|r| r.top_categories.iter())
            .filter_map(|c| catalog.category(c).map(|cat| (c.clone(), cat.name.clone())))
            .collect();
        let leaves = catalog
            .leaf_categories()
            .into_iter()
            .map(|c| Leaf {
                code: c.code.clone(),
                name: c.name.clone(),
                parent: c.parent.clone().unwrap_or_default(),
                keywords: c.keywords.clone(),
            })
            .collect();
        Ok(Suggester { clf, map, names, leaves })
    }

    /// The leaf for `text` among the leaves of `tops` (see the module's documentation) and the
    /// keywords it rests on.
    fn leaf(&self, text: &str, tops: &[String]) -> Option<(&Leaf, Vec<String>)> {
        let mut best: Option<(usize, &Leaf, Vec<String>)> = None;
        for top in tops {
            for leaf in self.leaves.iter().filter(|l| &l.parent == top) {
                let found: Vec<&String> =
                    leaf.keywords.iter().filter(|k| !k.is_empty() && text.contains(k.as_str())).collect();
                // A keyword inside a longer one found for the same leaf counts once.
                let kept: Vec<String> = found
                    .iter()
                    .filter(|k| !found.iter().any(|o| o.len() > k.len() && o.contains(k.as_str())))
                    .map(|k| (*k).clone())
                    .collect();
                let score: usize = kept.iter().map(|k| k.chars().count()).sum();
                // Strictly better only: ties keep the earlier top-level category and leaf.
                if score > 0 && best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, leaf, kept));
                }
            }
        }
        if let Some((_, leaf, kept)) = best {
            return Some((leaf, kept));
        }
        let top = tops.first()?;
        let mut own = self.leaves.iter().filter(|l| &l.parent == top);
        let default = own.clone().find(|l| l.code.ends_with("99")).or_else(|| own.next())?;
        Some((default, Vec::new()))
    }

    /// The shipped model and map over the Dongcheng catalog (built once).
    pub fn shipped() -> &'static Suggester {
        static S: OnceLock<Suggester> = OnceLock::new();
        S.get_or_init(|| {
            Suggester::new(Classifier::shipped(), LabelMap::shipped(), &Catalog::dongcheng())
                .expect("the shipped label map fits the shipped catalog and model")
        })
    }

    /// The classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.clf
    }

    /// Suggests a category for raw Chinese text (e.g. a case's subject and description joined
    /// by a newline).
    pub fn suggest(&self, text: &str) -> CategorySuggestion {
        // Segmented once (jieba is most of the cost): the emptiness check and the prediction
        // share the tokens.
        let tokens = tokenize::tokens(text, false);
        if tokens.is_empty() {
            return CategorySuggestion::unplaced(String::new(), 0.0, "诉求内容为空或无可识别文字，需人工分类".into());
        }
        let p = self.clf.predict_tokens(&tokens);
        let threshold = self.clf.manual_threshold();
        match self.map.get(&p.label) {
            None => {
                let reason = format!("分类“{}”未对应本区诉求分类，需人工分类", p.label);
                CategorySuggestion::unplaced(p.label, p.confidence, reason)
            }
            Some(m) => {
                let top = m.top_categories.first().cloned();
                let top_name =
                    top.as_ref().and_then(|c| self.names.iter().find(|(k, _)| k == c).map(|(_, n)| n.clone()));
                let leaf = self.leaf(text, &m.top_categories);
                let guessed = leaf.as_ref().is_none_or(|(_, k)| k.is_empty());
                let confidence = if guessed { p.confidence * DEFAULT_LEAF_FACTOR } else { p.confidence };
                let manual = confidence < threshold;
                let reason = if p.confidence < threshold {
                    Some(format!("置信度 {:.2} 低于 {:.2}，需人工确认分类", p.confidence, threshold))
                } else if manual {
                    Some(format!(
                        "大类“{}”置信度 {:.2}，但文中没有其细类的关键词，需人工选择细类",
                        top_name.as_deref().unwrap_or(&p.label),
                        p.confidence
                    ))
                } else {
                    None
                };
                CategorySuggestion {
                    category: leaf.as_ref().map(|(l, _)| l.code.clone()),
                    category_name: leaf.as_ref().map(|(l, _)| l.name.clone()),
                    keywords: leaf.map(|(_, k)| k).unwrap_or_default(),
                    top_category_name: top_name,
                    top_category: top,
                    also: m.top_categories.iter().skip(1).cloned().collect(),
                    unit_kind: Some(m.unit_kind),
                    unit: m.unit.clone(),
                    confidence,
                    label_confidence: p.confidence,
                    manual,
                    reason,
                    label: p.label,
                }
            }
        }
    }
}

/// Suggests a category for raw Chinese text with the shipped model and map.
pub fn suggest_category(text: &str) -> CategorySuggestion {
    Suggester::shipped().suggest(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_map_fits_catalog_and_model() {
        let map = LabelMap::shipped();
        let problems = map.check(&Catalog::dongcheng(), Classifier::shipped().labels());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(map.rows().len(), Classifier::shipped().labels().len());
    }

    #[test]
    fn bad_maps_are_explained() {
        let e = LabelMap::parse("label,unit_kind\nx,street\n", "m.csv").unwrap_err();
        assert!(e.to_string().contains("top_categories"), "{e}");
        let e = LabelMap::parse("label,top_categories,unit_kind\nx,01,nobody\n", "m.csv").unwrap_err();
        assert!(e.to_string().contains("nobody"), "{e}");
        let map =
            LabelMap::parse("label,top_categories,unit_kind,unit\n甲,0101|99,street,B01\n乙,13,street,\n", "m.csv")
                .unwrap();
        let problems = map.check(&Catalog::dongcheng(), &["甲".into(), "丙".into()]);
        let all = problems.join("\n");
        for want in ["0101", "99", "B01", "label 乙: unit_kind street", "丙"] {
            assert!(all.contains(want), "missing {want}: {all}");
        }
    }

    #[test]
    fn suggestions() {
        let s = suggest_category(
            "A市某小学乱收补课费\n学校老师强制学生参加收费补课，每学期收取补课费800元，家长苦不堪言。",
        );
        assert_eq!(s.label, "教育文体", "{s:?}");
        assert_eq!(s.top_category.as_deref(), Some("14"));
        assert_eq!(s.top_category_name.as_deref(), Some("教育"));
        assert_eq!(s.unit_kind, Some(UnitKind::Department));
        assert!(s.confidence > 0.0 && s.confidence <= 1.0);
        assert_eq!(s.confidence, s.label_confidence, "the leaf rests on keywords");
        assert_eq!(s.manual, s.confidence < Classifier::shipped().manual_threshold());
        // The leaf by keyword count: 学校, 老师, 学生 (学校管理, 6 characters) beat 补课 (校外培训,
        // 2); a person may well file it under 教育收费 — the pick is a suggestion, not calibrated.
        assert_eq!(s.category.as_deref(), Some("1402"), "{s:?}");
        assert_eq!(s.category_name.as_deref(), Some("学校管理"));
        assert_eq!(s.keywords, ["学校", "老师", "学生"]);
        let empty = suggest_category("，。！ ");
        assert!(empty.manual && empty.label.is_empty() && empty.reason.is_some());
        // A message about nothing in particular is not confidently anything.
        let vague = suggest_category("你好");
        assert!(vague.manual, "{vague:?}");
        // Confidently 城乡建设, but none of its leaves' keywords: the default leaf is a guess.
        let guess = suggest_category("小区门口天天有人乱停车，堵住消防通道");
        assert_eq!((guess.label.as_str(), guess.category.as_deref()), ("城乡建设", Some("0301")), "{guess:?}");
        assert!(guess.label_confidence >= Classifier::shipped().manual_threshold());
        assert_eq!(guess.confidence, guess.label_confidence * DEFAULT_LEAF_FACTOR);
        assert!(guess.manual && guess.keywords.is_empty(), "{guess:?}");
        assert!(guess.reason.unwrap().contains("住房物业"));
    }

    #[test]
    fn the_leaf_is_picked_by_keywords_within_the_labels_top_categories() {
        let s = Suggester::shipped();
        let tops = |l: &str| s.map.get(l).unwrap().top_categories.clone();
        let pick = |text: &str, label: &str| s.leaf(text, &tops(label)).map(|(l, k)| (l.code.clone(), k)).unwrap();
        // 城乡建设 spans 03|01|02|08: the longest keywords found win.
        let (code, k) = pick("小区楼道堆物严重，物业不管", "城乡建设");
        assert_eq!((code.as_str(), k), ("0203", vec!["楼道堆物".to_string()]));
        // A keyword inside a longer one of the same leaf counts once: 电梯 + 电梯故障 = 4.
        assert_eq!(pick("电梯故障停了三天", "城乡建设").0, "0306");
        assert_eq!(pick("有人被困电梯，电梯困人", "城乡建设").0, "0305");
        // Ties go to the earlier top-level category of the row (03 before 01).
        assert_eq!(pick("物业 违建", "城乡建设").0, "0301");
        // Nothing found: the first top-level category's first leaf (no 99 leaf there).
        assert_eq!(pick("反映一个情况", "城乡建设"), ("0301".to_string(), vec![]));
        // A keyword of a leaf outside the label's categories is not looked at.
        assert_eq!(pick("暖气不热", "劳动和社会保障").0, "1301");
        // With a …99 leaf, that is the default.
        assert_eq!(s.leaf("随便说说", &["22".to_string()]).unwrap().0.code, "2299");
    }
}
